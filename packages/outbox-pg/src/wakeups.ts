import type { Logger } from '@relaybus/core';
import { ClosedError } from '@relaybus/core';
import type { Pool, PoolClient } from 'pg';
import { quoteIdentifier } from './identifiers';
import type { CheckedOut } from './sql/transaction';
import { checkout } from './sql/transaction';

/** What the wake-up machinery needs from its store. */
export interface WakeupsConfig {
  readonly pool: Pool;
  /** The channel to LISTEN on; `undefined` to rely on polling alone. */
  readonly channel: string | undefined;
  /** Longest pause between polls. */
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  /** The newest visible position, or `undefined` for an empty log. */
  readonly head: () => Promise<string | undefined>;
}

/** Waiting for events: the store's `waitForEvents`, its post-commit hint and its shutdown. */
export interface Wakeups {
  /** Resolves once `head()` is past `from` (see `EventStore.waitForEvents`). */
  wait(from: string | undefined, signal?: AbortSignal): Promise<void>;
  /** Something may have been appended: check soon, and poll fast for a while. */
  hint(): void;
  /** Stops polling, resolves pending waits and gives the LISTEN connection back. */
  close(): Promise<void>;
}

interface Waiter {
  readonly from: string | undefined;
  readonly settle: () => void;
}

/** First poll after a hint; the pause then doubles up to `pollIntervalMs`. */
const FAST_POLL_MS = 25;
const LISTEN_RETRY_MS = 5_000;

/**
 * Builds the wake-ups of one store: an in-process hint after its own commits, LISTEN on one pooled connection
 * for other processes' commits (a hint only: notifications get lost), and polling as the safety net, fast right
 * after a hint (the event may wait behind an older in-flight transaction) and slowing down while idle.
 *
 * @example
 * ```ts
 * const wakeups = createWakeups({ pool, channel, pollIntervalMs: 1_000, logger, head: () => headPosition() });
 * await wakeups.wait(lastSeen, signal);
 * ```
 */
export function createWakeups(config: WakeupsConfig): Wakeups {
  const { pool, channel, logger } = config;
  const waiters = new Set<Waiter>();
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delayMs = config.pollIntervalMs;
  let checking = false;
  let checkAgain = false;
  let listener: (CheckedOut & { readonly detach: () => void }) | undefined;
  let connecting: Promise<void> | undefined;
  let listenRetryAt = 0;

  const isPast = (head: string | undefined, from: string | undefined): boolean =>
    head !== undefined && (from === undefined || head > from);

  function schedule(): void {
    if (timer !== undefined || closed || waiters.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void listen();
      void check();
    }, delayMs);
    delayMs = Math.min(delayMs * 2, config.pollIntervalMs);
  }

  async function check(): Promise<void> {
    if (checking) {
      checkAgain = true;
      return;
    }
    checking = true;
    try {
      do {
        checkAgain = false;
        if (waiters.size === 0) break;
        const head = await config.head();
        for (const waiter of [...waiters]) if (isPast(head, waiter.from)) waiter.settle();
      } while (checkAgain);
    } catch (error) {
      logger.warn('postgres event store: polling for new events failed; retrying', { error });
    } finally {
      checking = false;
      schedule();
    }
  }

  function hint(): void {
    delayMs = FAST_POLL_MS;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    void check();
  }

  function listen(): Promise<void> {
    if (channel === undefined || closed || listener !== undefined || Date.now() < listenRetryAt) {
      return connecting ?? Promise.resolve();
    }
    connecting ??= connect(channel).finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function connect(name: string): Promise<void> {
    let out: CheckedOut | undefined;
    try {
      out = await checkout(pool);
      const { client } = out;
      const onError = (error: Error): void => dropListener(client, error);
      client.on('notification', hint);
      client.on('error', onError);
      const detach = (): void => {
        client.off('notification', hint);
        client.off('error', onError);
      };
      await client.query(`LISTEN ${quoteIdentifier(name)}`);
      listener = { ...out, detach };
      if (closed) await releaseListener();
      // Anything committed before LISTEN took effect sent no notification to us: look once.
      else hint();
    } catch (error) {
      listenRetryAt = Date.now() + LISTEN_RETRY_MS;
      logger.warn('postgres event store: cannot LISTEN for appends; polling only for now', { error });
      if (out !== undefined && listener?.client !== out.client) out.release(error);
    }
  }

  function dropListener(client: PoolClient, error: Error): void {
    if (listener?.client !== client) return;
    listener.detach();
    listener.release(error);
    listener = undefined;
    logger.warn('postgres event store: the LISTEN connection failed; reconnecting, polling meanwhile', {
      error,
    });
    // Reconnect now, not at the next poll: waits that start meanwhile should not pay a poll interval.
    void listen();
    hint();
  }

  async function releaseListener(): Promise<void> {
    const current = listener;
    listener = undefined;
    if (current === undefined) return;
    current.detach();
    try {
      // The connection goes back to the user's pool: it must not keep listening there.
      await current.client.query('UNLISTEN *');
      current.release();
    } catch (error) {
      current.release(error);
    }
  }

  return {
    wait(from, signal) {
      if (closed) return Promise.reject(new ClosedError('the postgres event store', 'wait for events'));
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const finish = (): void => {
          waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
        };
        const waiter: Waiter = {
          from,
          settle: () => {
            finish();
            resolve();
          },
        };
        const onAbort = (): void => {
          finish();
          reject(signal?.reason);
        };
        waiters.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
        // Not awaited: LISTEN looks once more when it takes effect, so an append between this check and then is
        // seen either way, and a pool with no spare connection still gets its check (and polls).
        void listen();
        config
          .head()
          .then((head) => {
            if (isPast(head, from)) waiter.settle();
            else schedule();
          })
          .catch((error: unknown) => {
            finish();
            reject(error);
          });
      });
    },
    hint,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const waiter of [...waiters]) waiter.settle();
      await connecting;
      await releaseListener();
    },
  };
}
