import { fileURLToPath } from 'node:url';
import { MeasuringProcess } from '../lib/worker';
import type { ClientKind, WsContender } from './contenders';
import type {
  BroadcastResult,
  Deliveries,
  LoadRequest,
  MemorySample,
  ServerAddress,
  ServerRequest,
} from './requests';

const SERVER_SCRIPT = fileURLToPath(new URL('./server-process.ts', import.meta.url));
const LOAD_SCRIPT = fileURLToPath(new URL('./load-process.ts', import.meta.url));

/** Most client sockets one load generator process holds (the fd limit is per process). */
export const SOCKETS_PER_LOAD_PROCESS = 5_000;
/** Handshakes in flight per load generator process while connecting. */
const CONNECT_CONCURRENCY = 100;

/** Throughput figures of one fan-out run. */
export interface FanoutFigures {
  /** Broadcasts × clients, over the time from the first broadcast to the last delivery. */
  readonly deliveriesPerSec: number;
  /** Server process CPU time of the run over the deliveries, in µs. */
  readonly cpuUsPerDelivery: number;
}

/** Send → receive latency of one steady run, in µs, and the rate the clients kept up with. */
export interface LatencyFigures {
  readonly p50Us: number;
  readonly p99Us: number;
  /** Deliveries over the time from the first broadcast to the last delivery: below the offered rate, a backlog grew. */
  readonly deliveriesPerSec: number;
}

let lastRun = 0;

/** A contender's server, in a process of its own. */
export class ServerProcess {
  private constructor(
    private readonly process: MeasuringProcess,
    readonly address: ServerAddress,
  ) {}

  static async start(contender: WsContender): Promise<ServerProcess> {
    const process = await MeasuringProcess.start(`${contender.name} server`, SERVER_SCRIPT, [
      '--serve',
      contender.name,
    ]);
    return new ServerProcess(
      process,
      (await process.request({ op: 'address' } satisfies ServerRequest)) as ServerAddress,
    );
  }

  async request<T>(request: ServerRequest): Promise<T> {
    return (await this.process.request(request)) as T;
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

/** Load generator processes holding the clients of one server, at most {@link SOCKETS_PER_LOAD_PROCESS} each. */
export class LoadPool {
  private constructor(private readonly processes: ReadonlyArray<MeasuringProcess>) {}

  /** Enough processes for `clients` sockets. */
  static async start(name: string, clients: number): Promise<LoadPool> {
    const count = Math.ceil(clients / SOCKETS_PER_LOAD_PROCESS);
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, index) =>
        MeasuringProcess.start(`${name} load generator ${index + 1}`, LOAD_SCRIPT, []),
      ),
    );
    const processes = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed === undefined) return new LoadPool(processes);
    await Promise.all(processes.map((process) => process.close()));
    throw failed.reason;
  }

  /** Opens `clients` more clients of `kind` to the server at `address`, spread evenly over the processes. */
  async connect(kind: ClientKind, address: ServerAddress, clients: number, ack: boolean): Promise<void> {
    const count = this.processes.length;
    await this.all((index) => ({
      op: 'connect',
      client: kind,
      address,
      clients: Math.floor(clients / count) + (index < clients % count ? 1 : 0),
      concurrency: CONNECT_CONCURRENCY,
      ack,
    }));
  }

  /** Resets the counts for run `run`; then {@link collect} waits for its deliveries. */
  async arm(run: number, broadcasts: number, latency: boolean): Promise<void> {
    await this.all(() => ({ op: 'arm', run, broadcasts, latency }));
  }

  /** Resolves once every client received every broadcast of the armed run. */
  collect(): Promise<Deliveries[]> {
    return this.all(() => ({ op: 'collect' }));
  }

  async disconnect(): Promise<void> {
    await this.all(() => ({ op: 'disconnect' }));
  }

  /** The processes of the pool, for a latency run (its percentiles come from one process). */
  get size(): number {
    return this.processes.length;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((process) => process.close()));
  }

  private all<T>(request: (index: number) => LoadRequest): Promise<T[]> {
    return Promise.all(
      this.processes.map(async (process, index) => (await process.request(request(index))) as T),
    );
  }
}

/** A contender's server process and a load generator pool with `clients` clients connected to it. */
export class Rig {
  private constructor(
    readonly contender: WsContender,
    private readonly server: ServerProcess,
    private readonly load: LoadPool,
  ) {}

  static async start(contender: WsContender, clients: number): Promise<Rig> {
    const [server, load] = await Promise.allSettled([
      ServerProcess.start(contender),
      LoadPool.start(contender.name, clients),
    ]);
    if (server.status === 'fulfilled' && load.status === 'fulfilled') {
      const rig = new Rig(contender, server.value, load.value);
      try {
        await load.value.connect(contender.client, server.value.address, clients, true);
        return rig;
      } catch (error) {
        await rig.close();
        throw error;
      }
    }
    await Promise.all(
      [server, load].map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.close() : undefined)),
    );
    throw server.status === 'rejected' ? server.reason : (load as PromiseRejectedResult).reason;
  }

  /** `broadcasts` broadcasts with at most `window` not yet received by every client. */
  async fanout(broadcasts: number, window: number): Promise<FanoutFigures> {
    const run = ++lastRun;
    await this.load.arm(run, broadcasts, false);
    const [sent, received] = await Promise.all([
      this.server.request<BroadcastResult>({ op: 'fanout', run, broadcasts, window }),
      this.load.collect(),
    ]);
    const deliveries = received.reduce((sum, part) => sum + part.count, 0);
    const lastAt = Math.max(...received.map((part) => part.lastAt));
    return {
      deliveriesPerSec: (deliveries / (lastAt - sent.startedAt)) * 1_000,
      cpuUsPerDelivery: sent.cpuUs / deliveries,
    };
  }

  /** `broadcasts` broadcasts at a steady `ratePerSec`; the latency of every delivery. */
  async latency(broadcasts: number, ratePerSec: number): Promise<LatencyFigures> {
    if (this.load.size !== 1) throw new Error('a latency run needs all its clients in one load generator');
    const run = ++lastRun;
    await this.load.arm(run, broadcasts, true);
    const [sent, [received]] = await Promise.all([
      this.server.request<BroadcastResult>({ op: 'steady', run, broadcasts, ratePerSec }),
      this.load.collect(),
    ]);
    if (received === undefined) throw new Error('no deliveries from the load generator');
    const { p50Us = Number.NaN, p99Us = Number.NaN, count, lastAt } = received;
    return { p50Us, p99Us, deliveriesPerSec: (count / (lastAt - sent.startedAt)) * 1_000 };
  }

  async close(): Promise<void> {
    await Promise.all([this.server.close(), this.load.close()]);
  }
}

/** Starts a rig per contender with `clients` clients each, runs `body`, then ends every process. */
export async function withRigs<T>(
  contenders: ReadonlyArray<WsContender>,
  clients: number,
  body: (rigs: Rig[]) => Promise<T>,
): Promise<T> {
  const started = await Promise.allSettled(contenders.map((contender) => Rig.start(contender, clients)));
  const rigs = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return await body(rigs);
  } finally {
    await Promise.all(rigs.map((rig) => rig.close()));
  }
}

/**
 * The server's memory per connection, from a fresh server process: after `warmClients` connections (so one-time
 * costs are paid), then after `clients` more, both after full collections, idle for `settleMs` before the second.
 */
export async function memoryPerConnection(
  contender: WsContender,
  load: LoadPool,
  options: { readonly clients: number; readonly warmClients: number; readonly settleMs: number },
): Promise<MemorySample> {
  const server = await ServerProcess.start(contender);
  try {
    await load.connect(contender.client, server.address, options.warmClients, false);
    const before = await server.request<MemorySample>({ op: 'memory' });
    await load.connect(contender.client, server.address, options.clients, false);
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
    const after = await server.request<MemorySample>({ op: 'memory' });
    return {
      rssBytes: (after.rssBytes - before.rssBytes) / options.clients,
      heapUsedBytes: (after.heapUsedBytes - before.heapUsedBytes) / options.clients,
    };
  } finally {
    await load.disconnect();
    await server.close();
  }
}
