import { type ChildProcess, fork } from 'node:child_process';
import type { BenchGroup, Contender } from './contender';
import { type LatencyResult, measureLatency } from './latency';
import { type BenchSettings, settingsFor } from './settings';
import { measureThroughput } from './throughput';

const WORKER_FLAG = '--worker';
const EXIT_GRACE_MS = 10_000;
/** Longest a single run may take before its worker is killed (its own stall timeout should fire well before). */
const REQUEST_TIMEOUT_MS = 120_000;

type Request = { kind: 'throughput' } | { kind: 'latency' };
type Reply =
  | { kind: 'ready' }
  | { kind: 'result'; value: number | LatencyResult }
  | { kind: 'error'; error: string };

/**
 * A contender living in its own Node process (same flags as this one), so that code compiled for one contender
 * (inline caches, heap shape, a warm JIT) does not help or hurt another. It idles between requests, which lets
 * the runner interleave the runs of a group's contenders.
 */
export class ContenderWorker {
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
        this.settle(new Error(`${name}: worker exited (${signal ?? code}) before replying`));
        resolve();
      });
    });
  }

  /** Starts the process that measures `contenderName` of `group`; resolves once it listens for requests. */
  static async start(group: BenchGroup, contenderName: string): Promise<ContenderWorker> {
    const script = process.argv[1];
    if (script === undefined) throw new Error('cannot find the benchmark script to fork');
    const child = fork(script, [WORKER_FLAG, group.id, contenderName], { execArgv: process.execArgv });
    const worker = new ContenderWorker(contenderName, child);
    const reply = await worker.next();
    if (reply.kind === 'error') throw new Error(`${contenderName}: ${reply.error}`);
    return worker;
  }

  /** One throughput run, in events per second. */
  async throughput(): Promise<number> {
    return (await this.request({ kind: 'throughput' })) as number;
  }

  /** The latency run. */
  async latency(): Promise<LatencyResult> {
    return (await this.request({ kind: 'latency' })) as LatencyResult;
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

  private async request(request: Request): Promise<number | LatencyResult> {
    const reply = this.next();
    this.child.send(request);
    const timer = setTimeout(() => this.child.kill(), REQUEST_TIMEOUT_MS);
    try {
      const received = await reply;
      if (received.kind === 'result') return received.value;
      throw new Error(`${this.name}: ${received.kind === 'error' ? received.error : 'unexpected reply'}`);
    } finally {
      clearTimeout(timer);
    }
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
    reply({ kind: 'error', error: `no contender "${task.contenderName}" in group "${task.groupId}"` });
    return;
  }
  const groupSettings = settingsFor(group ?? {}, settings);
  process.on('message', (request: Request) => {
    answer(contender, request, groupSettings).then(reply);
  });
  // Messages that arrive before a listener exists are dropped, so the parent waits for this.
  reply({ kind: 'ready' });
}

function reply(message: Reply): void {
  process.send?.(message);
}

async function answer(contender: Contender, request: Request, settings: BenchSettings): Promise<Reply> {
  try {
    const value =
      request.kind === 'throughput'
        ? await measureThroughput(contender, settings)
        : await measureLatency(contender, settings);
    return { kind: 'result', value };
  } catch (error) {
    return { kind: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}
