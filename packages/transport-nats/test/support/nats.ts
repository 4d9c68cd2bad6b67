import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll } from 'vitest';

/** The shared NATS server of the machine (`NATS_URL`), never restarted by a test. */
export const NATS_URL = process.env['NATS_URL'] ?? '127.0.0.1:4222';

/** A prefix no other run uses: lowercase letters, digits and `_`. */
export function uniquePrefix(label: string): string {
  return `t${label.replace(/[^a-z0-9]/g, '')}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

/** Deletes every stream whose name starts with one of `prefixes` (and with it every consumer). */
export async function deleteStreams(nc: NatsConnection, prefixes: Iterable<string>): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const wanted = [...prefixes];
  for await (const name of jsm.streams.names()) {
    if (wanted.some((prefix) => name.startsWith(prefix))) await jsm.streams.delete(name).catch(() => false);
  }
}

/**
 * Streams made by this file's tests are deleted after it (prefixes registered with the returned function), so runs
 * leave nothing behind on the shared server.
 */
export function useCleanup(): (prefix: string) => string {
  const prefixes = new Set<string>();
  afterAll(async () => {
    if (prefixes.size === 0) return;
    const nc = await connect({ servers: NATS_URL });
    try {
      await deleteStreams(nc, prefixes);
    } finally {
      await nc.close();
    }
  });
  return (prefix) => {
    prefixes.add(prefix);
    return prefix;
  };
}
