import type { Envelope, EventStore, Logger } from '@relaybus/core';
import type { BridgeBus } from './options';

/** An event as the bridge dispatches it: with its store position when it came from a store. */
export type SourceEvent = Envelope & { readonly position?: string };

/**
 * Where live events come from: the store's log read in order (gap-free, positioned), or the bus without a group.
 *
 * @example
 * ```ts
 * const source = storeSource(store, logger);
 * await source.start((event) => dispatch(event));
 * ```
 */
export interface EventSource {
  /** Starts delivering events to `dispatch`, in order, one at a time. */
  start(dispatch: (event: SourceEvent) => void): Promise<void>;
  /**
   * The position of the last event dispatched (the head at start before any): `''` for an empty store (the start of
   * the log, before every position), `undefined` without a store.
   */
  tail(): string | undefined;
  close(): Promise<void>;
}

const PAGE = 500;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/**
 * Tails a store: reads pages after the last dispatched position and waits for more between them. A failing store
 * is retried with backoff from the same position, so nothing is skipped across an outage.
 *
 * @example
 * ```ts
 * const source = storeSource(postgresEventStore({ pool }), logger);
 * ```
 */
export function storeSource(store: EventStore<unknown>, logger: Logger): EventSource {
  const controller = new AbortController();
  let tail: string | undefined;
  let loop: Promise<void> | undefined;

  async function run(dispatch: (event: SourceEvent) => void): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!controller.signal.aborted) {
      try {
        const page = await store.readPage(tail === undefined ? { limit: PAGE } : { from: tail, limit: PAGE });
        for (const event of page.events) {
          if (controller.signal.aborted) return;
          tail = event.position;
          dispatch(event);
        }
        if (page.next !== undefined) tail = page.next;
        delay = RETRY_MIN_MS;
        if (page.events.length < PAGE) await store.waitForEvents(tail, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        logger.warn('ws-bridge: reading the event store failed; retrying from the same position', {
          error,
          position: tail,
          retryInMs: delay,
        });
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  return {
    async start(dispatch) {
      tail = await store.headPosition();
      loop = run(dispatch);
    },
    tail: () => tail ?? '',
    async close() {
      controller.abort(new Error('ws-bridge closed'));
      await loop;
    },
  };
}

/**
 * Subscribes to the bus without a group: every node running a bridge receives every event.
 *
 * @example
 * ```ts
 * const source = busSource(bus);
 * ```
 */
export function busSource(bus: BridgeBus): EventSource {
  let subscription: { close?: () => Promise<void> | void } | undefined;
  return {
    async start(dispatch) {
      subscription = (await bus.subscribe('#', (event: SourceEvent) => {
        dispatch(event);
      })) as typeof subscription;
    },
    tail: () => undefined,
    async close() {
      await subscription?.close?.();
    },
  };
}
