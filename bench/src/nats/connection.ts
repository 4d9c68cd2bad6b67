import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The NATS server every nats contender runs against: `NATS_URL`, else the local default. */
export const NATS_URL = process.env['NATS_URL'] ?? '127.0.0.1:4222';

/**
 * A new connection to `NATS_URL`, without a stack trace captured per request (`noAsyncTraces`), as the transport's
 * own connections are: otherwise every `js.publish` pays for two.
 */
export function connectNats(): Promise<NatsConnection> {
  return connect({ servers: NATS_URL, noAsyncTraces: true });
}

let runs = 0;

/** A prefix (and stream name) no other run, process or user of the shared server has. */
export function uniqueStream(contender: string): string {
  runs += 1;
  return `bench_${contender}_${process.pid}_${runs}_${Date.now().toString(36)}`;
}

/** Deletes every stream whose name starts with `prefix`, so a run leaves the shared server as it found it. */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
