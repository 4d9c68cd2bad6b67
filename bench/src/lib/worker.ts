import { type ChildProcess, fork } from 'node:child_process';
import type { BenchGroup, Contender } from './contender';
import { type LatencyResult, measureLatency } from './latency';
import { type BenchSettings, settingsFor } from './settings';
import { measureThroughput } from './throughput';

const WORKER_FLAG = '--worker';
const EXIT_GRACE_MS = 10_000;
/** Longest a single run may take before its process is killed (its own stall timeout should fire well before). */
const REQUEST_TIMEOUT_MS = 120_000;

type Reply = { kind: 'ready' } | { kind: 'result'; value: unknown } | { kind: 'error'; error: string };

/**
 * A process that measures one contender (same Node flags as this one), so that code compiled for one contender
 * (inline caches, heap shape, a warm JIT) does not help or hurt another. It idles between requests, which lets
 * the runner interleave the runs of several contenders. Its script answers with {@link serveRequests}.
 */
export class MeasuringProcess {
  private waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: Reply) => this.settle(reply));
    child.on('error', (error) => this.settle(new Error(`${name}: ${error.message}`)));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.settle(new Error(`${name}: process exited (${signal ?? code}) before replying`));
        resolve();
      });
    });
  }

  /** Forks `script` with `args`; resolves once it listens for requests. */
  static async start(name: string, script: string, args: ReadonlyArray<string>): Promise<MeasuringProcess> {
    const child = fork(script, [...args], { execArgv: process.execArgv });
    const measuring = new MeasuringProcess(name, child);
    const reply = await measuring.next();
    if (reply.kind === 'error') {
      child.kill();
      throw new Error(`${name}: ${reply.error}`);
    }
    return measuring;
  }

  /** Sends one request and returns the process's result; kills the process after `timeoutMs`. */
  async request(request: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const reply = this.next();
    this.child.send(request as object);
    const timer = setTimeout(() => this.child.kill(), timeoutMs);
    try {
      const received = await reply;
      if (received.kind === 'result') return received.value;
      throw new Error(`${this.name}: ${received.kind === 'error' ? received.error : 'unexpected reply'}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets the process exit; kills it if a handle the contender left open keeps it alive. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    const killer = setTimeout(() => {
      console.warn(`warning: ${this.name} did not exit by itself after its runs`);
      this.child.kill();
    }, EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(killer);
  }

  private next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private settle(outcome: Reply | Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (outcome instanceof Error) waiting?.reject(outcome);
    else waiting?.resolve(outcome);
  }
}

/**
 * The child side of {@link MeasuringProcess}: answers the parent's requests with `answer`, one at a time, until it
 * disconnects. With `setupError`, replies with it instead and answers nothing.
 */
export function serveRequests(answer: (request: unknown) => Promise<unknown>, setupError?: string): void {
  if (setupError !== undefined) {
    reply({ kind: 'error', error: setupError });
    return;
  }
  process.on('message', (request: unknown) => {
    answer(request).then(
      (value) => reply({ kind: 'result', value }),
      (error: unknown) =>
        reply({
          kind: 'error',
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
  });
  // Messages that arrive before a listener exists are dropped, so the parent waits for this.
  reply({ kind: 'ready' });
}

function reply(message: Reply): void {
  process.send?.(message);
}

type Request = { kind: 'throughput' } | { kind: 'latency' };

/** A contender of a {@link BenchGroup} in its own process: throughput and latency runs on request. */
export class ContenderWorker {
  private constructor(private readonly process: MeasuringProcess) {}

  get name(): string {
    return this.process.name;
  }

  /** Starts the process that measures `contenderName` of `group`; resolves once it listens for requests. */
  static async start(group: BenchGroup, contenderName: string): Promise<ContenderWorker> {
    const script = process.argv[1];
    if (script === undefined) throw new Error('cannot find the benchmark script to fork');
    const args = [WORKER_FLAG, group.id, contenderName];
    return new ContenderWorker(await MeasuringProcess.start(contenderName, script, args));
  }

  /** One throughput run, in events per second. */
  async throughput(): Promise<number> {
    return (await this.process.request({ kind: 'throughput' } satisfies Request)) as number;
  }

  /** The latency run. */
  async latency(): Promise<LatencyResult> {
    return (await this.process.request({ kind: 'latency' } satisfies Request)) as LatencyResult;
  }

  close(): Promise<void> {
    return this.process.close();
  }
}

/** When this process was started by {@link ContenderWorker.start}, the group and contender it measures. */
export function workerTask(
  argv: ReadonlyArray<string>,
): { groupId: string; contenderName: string } | undefined {
  const at = argv.indexOf(WORKER_FLAG);
  const groupId = argv[at + 1];
  const contenderName = argv[at + 2];
  if (at === -1 || groupId === undefined || contenderName === undefined) return undefined;
  return { groupId, contenderName };
}

/** Answers the parent's requests with measurements of one contender, one at a time, until it disconnects. */
export function serveWorker(
  groups: ReadonlyArray<BenchGroup>,
  task: { groupId: string; contenderName: string },
  settings: BenchSettings,
): void {
  const group = groups.find((candidate) => candidate.id === task.groupId);
  const contender = group?.contenders.find((candidate) => candidate.name === task.contenderName);
  if (contender === undefined) {
    serveRequests(
      () => Promise.reject(new Error('no contender')),
      `no contender "${task.contenderName}" in group "${task.groupId}"`,
    );
    return;
  }
  const groupSettings = settingsFor(group ?? {}, settings);
  serveRequests((request) => answer(contender, request as Request, groupSettings));
}

function answer(
  contender: Contender,
  request: Request,
  settings: BenchSettings,
): Promise<number | LatencyResult> {
  return request.kind === 'throughput'
    ? measureThroughput(contender, settings)
    : measureLatency(contender, settings);
}
