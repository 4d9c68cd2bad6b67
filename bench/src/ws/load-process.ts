import { collectGarbage } from '../lib/gc';
import { Progress } from '../lib/progress';
import { percentile } from '../lib/stats';
import { serveRequests } from '../lib/worker';
import { AckSender } from './acks';
import { type BenchClient, connectClient } from './bench-clients';
import type { ArmRequest, ConnectRequest, Deliveries, LoadRequest } from './requests';
import { now, type WsEventData } from './ws-event';

/** Longest wait for the next delivery before a run is declared stuck. */
const STALL_MS = 15_000;

/** What the clients received of the armed run. */
interface RunState {
  readonly run: number;
  readonly broadcasts: number;
  /** Deliveries of each broadcast so far. */
  readonly received: Uint32Array;
  /** Send → receive of each delivery, in ms, when latency is recorded. */
  readonly latencies: Float64Array | undefined;
  readonly progress: Progress;
  /** Broadcasts every client received (a prefix: each connection receives in order). */
  complete: number;
  lastAt: number;
}

/**
 * The load generator process: many clients of one server, counting what they receive per run, acking fan-out
 * progress to the server and recording latencies on request. Forked by the runner; not imported.
 */
class LoadGenerator {
  private readonly clients: BenchClient[] = [];
  private acks: AckSender | undefined;
  private state: RunState | undefined;

  async connect(request: ConnectRequest): Promise<number> {
    const { client, address, clients, concurrency } = request;
    if (request.ack && this.acks === undefined) this.acks = await AckSender.connect(address.ackPort);
    const handlers = {
      onEvent: (data: WsEventData) => this.receive(data),
      onLost: (reason: string) => this.lost(reason),
    };
    let started = 0;
    const lane = async (): Promise<void> => {
      while (started < clients) {
        started += 1;
        this.clients.push(await connectClient(client, address.port, handlers));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, clients) }, lane));
    return this.clients.length;
  }

  arm(request: ArmRequest): void {
    const { run, broadcasts } = request;
    collectGarbage();
    this.state = {
      run,
      broadcasts,
      received: new Uint32Array(broadcasts),
      latencies: request.latency ? new Float64Array(broadcasts * this.clients.length) : undefined,
      progress: new Progress(STALL_MS),
      complete: 0,
      lastAt: Number.NaN,
    };
  }

  async collect(): Promise<Deliveries> {
    const state = this.state;
    if (state === undefined) throw new Error('collect before arm');
    const expected = state.broadcasts * this.clients.length;
    await state.progress.reach(expected);
    this.state = undefined;
    const figures = { count: state.progress.count, lastAt: state.lastAt };
    if (state.latencies === undefined) return figures;
    const sorted = state.latencies.sort();
    return { ...figures, p50Us: percentile(sorted, 50) * 1_000, p99Us: percentile(sorted, 99) * 1_000 };
  }

  disconnect(): void {
    for (const client of this.clients) client.close();
    this.clients.length = 0;
    this.acks?.close();
    this.acks = undefined;
  }

  private receive(data: WsEventData): void {
    const at = now();
    const state = this.state;
    if (state === undefined) return;
    if (data.run !== state.run) {
      state.progress.fail(
        new Error(`received broadcast ${data.seq} of run ${data.run} during run ${state.run}`),
      );
      return;
    }
    const { progress, received, latencies } = state;
    if (latencies !== undefined) latencies[progress.count] = at - data.sentAt;
    state.lastAt = at;
    const deliveries = (received[data.seq] as number) + 1;
    received[data.seq] = deliveries;
    if (deliveries === this.clients.length) this.advance(state);
    progress.probe(data.seq);
  }

  /** Moves the prefix every client received on, and acks it. */
  private advance(state: RunState): void {
    const clients = this.clients.length;
    while (state.complete < state.broadcasts && state.received[state.complete] === clients)
      state.complete += 1;
    this.acks?.send(state.run, state.complete);
  }

  private lost(reason: string): void {
    this.state?.progress.fail(new Error(`a client lost its connection during the run: ${reason}`));
  }
}

function answer(load: LoadGenerator, request: LoadRequest): Promise<unknown> {
  switch (request.op) {
    case 'connect':
      return load.connect(request);
    case 'arm':
      return Promise.resolve(load.arm(request));
    case 'collect':
      return load.collect();
    case 'disconnect':
      return Promise.resolve(load.disconnect());
  }
}

// Open clients keep the process alive; it has nothing left to do once the runner lets go of it.
process.on('disconnect', () => process.exit(0));

const load = new LoadGenerator();
serveRequests((request) => answer(load, request as LoadRequest));
