import type { StoredEvent, Transport, TransportMessage } from '@relaybus/core';
import { memoryTransport } from '@relaybus/core';

/** A memory transport that also records every message it accepted, in publish order. */
export interface RecordingTransport extends Transport {
  readonly published: TransportMessage[];
  /** The stored events accepted, in publish order. */
  events(): StoredEvent[];
}

/**
 * Wraps `memoryTransport()`; `reject(message)` returning an error makes that publish fail with it.
 *
 * @example
 * ```ts
 * const transport = recordingTransport();
 * ```
 */
export function recordingTransport(
  reject: (message: TransportMessage) => Error | undefined = () => undefined,
): RecordingTransport {
  const inner = memoryTransport();
  const published: TransportMessage[] = [];
  return {
    ...inner,
    name: inner.name,
    capabilities: inner.capabilities,
    deadLetters: inner.deadLetters,
    subscribe: inner.subscribe.bind(inner),
    close: inner.close.bind(inner),
    published,
    async publish(messages) {
      for (const message of messages) {
        const error = reject(message);
        if (error !== undefined) throw error;
      }
      await inner.publish(messages);
      published.push(...messages);
    },
    events: () => published.map((message) => message.body as StoredEvent),
  };
}

/**
 * Waits until `done()` holds, up to `timeoutMs`; throws with `what` when it does not.
 *
 * @example
 * ```ts
 * await until(() => transport.published.length >= 3, 'three messages');
 * ```
 */
export async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
