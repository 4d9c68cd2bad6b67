/** One job of a run: its index (the handler reports it) and, in the groups part, its group key. */
export interface BenchJob {
  readonly id: number;
  readonly group?: string;
}

/** Which queue a {@link JobSystem} opens. */
export interface QueueSetup {
  /** Every key of the queue starts with it: unique per run, deleted after it. */
  readonly prefix: string;
  /**
   * `bench`: completed jobs removed at once (BullMQ `removeOnComplete`, relaybus `retainCompletedMs: 0`), the rest
   * at the library's defaults; `defaults`: everything at the library's defaults (the crash part).
   */
  readonly config: 'bench' | 'defaults';
  /** Per-group concurrency 1 (`groups: { concurrency: 1 }`); only for a system with `hasGroups`. */
  readonly groups?: boolean;
}

/** What a worker of the benchmark does with each job. */
export interface BenchWork {
  /** Jobs the worker runs at once; the library's default when absent. */
  readonly concurrency?: number;
  /** The handler: called on entry with the job's index; what it returns, the library's handler returns. */
  readonly handle: (id: number) => unknown;
  /** Called once the library recorded a job as completed (the handler returned and the completion was written). */
  readonly onCompleted?: () => void;
}

/** A running worker. */
export interface BenchWorker {
  close(): Promise<void>;
}

/** A client of one queue of a {@link JobSystem}, on connections of its own. */
export interface BenchQueue {
  /** One job per call (relaybus `enqueue`, BullMQ `Queue.add`). */
  enqueue(job: BenchJob): Promise<void>;
  /** One call for the batch (relaybus `enqueueMany`, BullMQ `Queue.addBulk`). */
  enqueueMany(jobs: ReadonlyArray<BenchJob>): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Starts a worker on the queue; resolves once it is connected. */
  work(work: BenchWork): Promise<BenchWorker>;
  /** Closes what this client opened (workers included); the keys stay. */
  close(): Promise<void>;
}

/** A job queue library on Redis, as every part of the jobs benchmark drives it. */
export interface JobSystem {
  /** Its name in tables and goals. */
  readonly name: string;
  /** Whether it has per-group limits. */
  readonly hasGroups: boolean;
  /** A new client of the queue under `setup.prefix`, connected when it resolves. */
  open(setup: QueueSetup): Promise<BenchQueue>;
}

/** The job type (BullMQ job name) and queue every system uses. */
export const JOB_TYPE = 'bench.job';
export const QUEUE = 'bench';
