import { canCollectGarbage, collectGarbage } from '../lib/gc';
import { watchPublish } from '../lib/progress';
import { serveRequests } from '../lib/worker';
import { AckReceiver } from './acks';
import type { BroadcastServer } from './broadcast-server';
import { RAW_NAIVE, RAW_PREFRAMED, RELAYBUS, SOCKET_IO } from './contenders';
import { rawNaiveServer, rawPreframedServer } from './raw-ws-servers';
import { relaybusServer } from './relaybus-server';
import type {
  BroadcastResult,
  FanoutRequest,
  MemorySample,
  ServerAddress,
  ServerRequest,
  SteadyRequest,
} from './requests';
import { socketIoServer } from './socket-io-server';
import { eventData, now } from './ws-event';

/**
 * The server process of one contender (`--serve <name>`): its WebSocket server and an ack port, and broadcast
 * runs on request. Forked by the runner; not imported.
 */
const SERVERS: Record<string, () => Promise<BroadcastServer>> = {
  [RAW_NAIVE]: rawNaiveServer,
  [RAW_PREFRAMED]: rawPreframedServer,
  [SOCKET_IO]: socketIoServer,
  [RELAYBUS]: relaybusServer,
};

/** CPU time of this process since `since`, user and system, in µs. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

/** Sends broadcast `seq` of `run`; a failed send (relaybus's publish) goes to `fail`. */
function send(server: BroadcastServer, run: number, seq: number, fail: (error: unknown) => void): void {
  watchPublish(server.broadcast(eventData(run, seq)), fail);
}

/** One broadcast per event-loop turn while fewer than `window` are not acked; resolves at the last ack. */
function fanout(
  server: BroadcastServer,
  acks: AckReceiver,
  request: FanoutRequest,
): Promise<BroadcastResult> {
  const { run, broadcasts, window } = request;
  collectGarbage();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    let scheduled = false;
    let failed = false;
    const fail = (error: unknown): void => {
      failed = true;
      acks.stop();
      reject(error);
    };
    const pump = (): void => {
      scheduled = false;
      if (failed || sent >= broadcasts || sent - acked >= window) return;
      send(server, run, sent++, fail);
      scheduled = true;
      setImmediate(pump);
    };
    const startedAt = now();
    const cpu = process.cpuUsage();
    acks.expect(run, (count) => {
      acked = count;
      if (acked < broadcasts) {
        if (!scheduled) pump();
        return;
      }
      acks.stop();
      resolve({ startedAt, cpuUs: cpuSince(cpu) });
    });
    pump();
  });
}

/** The broadcasts due at a steady rate, checked every millisecond; resolves once the last one was sent. */
function steady(server: BroadcastServer, request: SteadyRequest): Promise<BroadcastResult> {
  const { run, broadcasts, ratePerSec } = request;
  collectGarbage();
  return new Promise((resolve, reject) => {
    const startedAt = now();
    const startedMs = performance.now();
    const cpu = process.cpuUsage();
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(
        broadcasts,
        Math.floor(((performance.now() - startedMs) * ratePerSec) / 1_000) + 1,
      );
      while (sent < due) send(server, run, sent++, fail);
      if (sent < broadcasts) return;
      clearInterval(timer);
      resolve({ startedAt, cpuUs: cpuSince(cpu) });
    }, 1);
    function fail(error: unknown): void {
      clearInterval(timer);
      reject(error);
    }
  });
}

/** RSS and used heap after two full collections (the second frees what the first one's finalizers released). */
function memory(): MemorySample {
  if (!canCollectGarbage) throw new Error('the server process needs --expose-gc to measure memory');
  collectGarbage();
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed };
}

function answer(server: BroadcastServer, acks: AckReceiver, request: ServerRequest): Promise<unknown> {
  switch (request.op) {
    case 'address':
      return Promise.resolve({ port: server.port, ackPort: acks.port } satisfies ServerAddress);
    case 'fanout':
      return fanout(server, acks, request);
    case 'steady':
      return steady(server, request);
    case 'memory':
      return Promise.resolve().then(memory);
  }
}

// The servers keep the process alive; it has nothing left to do once the runner lets go of it.
process.on('disconnect', () => process.exit(0));

const [mode, name] = process.argv.slice(2);
const start = name === undefined ? undefined : SERVERS[name];
if (mode !== '--serve' || start === undefined) {
  serveRequests(
    () => Promise.reject(new Error('not serving')),
    `cannot serve "${process.argv.slice(2).join(' ')}"`,
  );
} else {
  try {
    const [server, acks] = await Promise.all([start(), AckReceiver.listen()]);
    serveRequests((request) => answer(server, acks, request as ServerRequest));
  } catch (error) {
    serveRequests(
      () => Promise.reject(new Error('not serving')),
      `cannot start the ${name} server: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
