import type { ClientKind } from './contenders';

/** Where the server process listens: the contender's WebSocket port and the port acks go to. */
export interface ServerAddress {
  readonly port: number;
  readonly ackPort: number;
}

/**
 * Broadcast `broadcasts` events as fast as the clients take them: at most `window` broadcasts sent but not yet
 * received by every client (the load generators ack), one broadcast per event-loop turn.
 */
export interface FanoutRequest {
  readonly op: 'fanout';
  readonly run: number;
  readonly broadcasts: number;
  readonly window: number;
}

/** Broadcast `broadcasts` events at a steady `ratePerSec`, paced by a 1 ms timer; no acks. */
export interface SteadyRequest {
  readonly op: 'steady';
  readonly run: number;
  readonly broadcasts: number;
  readonly ratePerSec: number;
}

/** What the server process does on request: its address, a broadcast run, or its memory after a full GC. */
export type ServerRequest =
  | { readonly op: 'address' }
  | FanoutRequest
  | SteadyRequest
  | { readonly op: 'memory' };

/** The server's side of a broadcast run. */
export interface BroadcastResult {
  /** When the first broadcast started, epoch ms (`performance.timeOrigin + performance.now()`). */
  readonly startedAt: number;
  /** `process.cpuUsage()` (user + system) of the server process from the first broadcast to the last ack. */
  readonly cpuUs: number;
}

/** The server process's memory after a full garbage collection. */
export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Open `clients` connections (in addition to any already open), at most `concurrency` handshakes at a time. */
export interface ConnectRequest {
  readonly op: 'connect';
  readonly client: ClientKind;
  readonly address: ServerAddress;
  readonly clients: number;
  readonly concurrency: number;
  /** Send acks for fan-out runs to the server's ack port. */
  readonly ack: boolean;
}

/** Get ready to count the deliveries of run `run` (and record each one's latency when `latency`). */
export interface ArmRequest {
  readonly op: 'arm';
  readonly run: number;
  readonly broadcasts: number;
  readonly latency: boolean;
}

/** What a load generator process does on request. `collect` resolves once every delivery of the run arrived. */
export type LoadRequest =
  | ConnectRequest
  | ArmRequest
  | { readonly op: 'collect' }
  | { readonly op: 'disconnect' };

/** The load generator's side of a run. */
export interface Deliveries {
  /** Deliveries received: broadcasts × this process's clients. */
  readonly count: number;
  /** When the last one arrived, epoch ms. */
  readonly lastAt: number;
  /** Percentiles of send → receive, in µs (latency runs only). */
  readonly p50Us?: number;
  readonly p99Us?: number;
}
