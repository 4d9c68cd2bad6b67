type Listener = () => void;

const listeners = new Map<string, Set<Listener>>();

/**
 * Subscribes to commits of appends made by any Postgres event store of this process to `schema`: the relay's
 * in-process wake-up, which needs no round trip through LISTEN/NOTIFY. Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * const off = onLocalCommit('relaybus', () => wakeups.hint());
 * ```
 */
export function onLocalCommit(schema: string, listener: () => void): () => void {
  let set = listeners.get(schema);
  if (set === undefined) {
    set = new Set();
    listeners.set(schema, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && listeners.get(schema) === set) listeners.delete(schema);
  };
}

/**
 * Tells the in-process listeners of `schema` that an append committed. Listeners must not throw; one that does
 * is ignored so the append is unaffected.
 *
 * @example
 * ```ts
 * await client.query('COMMIT');
 * signalLocalCommit(schema);
 * ```
 */
export function signalLocalCommit(schema: string): void {
  for (const listener of listeners.get(schema) ?? []) {
    try {
      listener();
    } catch {
      // A wake-up hint is best effort.
    }
  }
}
