import type { TransportMessage } from '@relaybus/core';

/**
 * `count` messages on `topic` with ids `<label>-<n>` and a small JSON body; `extra` adds fields (a key, a delay)
 * to the message of index `n`.
 *
 * @example
 * ```ts
 * await transport.publish(messages('task.created', 'a', 30, (n) => ({ key: `k${n % 4}` })));
 * ```
 */
export function messages(
  topic: string,
  label: string,
  count: number,
  extra: (index: number) => Partial<TransportMessage> = () => ({}),
): TransportMessage[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    topic,
    body: { id: `${label}-${index}`, type: topic, data: { n: index } },
    ...extra(index),
  }));
}
