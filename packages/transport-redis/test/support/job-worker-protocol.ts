import type { ClientFlavour, Connection } from './client';

/** How the job worker process runs. Passed as JSON in its environment. */
export interface JobWorkerConfig {
  readonly connection: Connection;
  /** The ioredis major (and reply options) to connect with; ioredis 5 when absent. */
  readonly flavour?: ClientFlavour;
  /** The transport's key prefix. */
  readonly prefix: string;
  readonly queue: string;
  /**
   * What the handler does after reporting that it started: `complete` returns `{ label, pid }`; `hold` never
   * settles (until the process is killed); `kill-self` SIGKILLs its own process.
   */
  readonly mode: 'complete' | 'hold' | 'kill-self';
  /** The queue's `leaseTtlMs`; the default (5000) when absent. */
  readonly leaseTtlMs?: number;
  readonly concurrency?: number;
}

/** Worker process to parent, in the order things happened. */
export type JobWorkerReport =
  | { readonly type: 'ready'; readonly pid: number }
  /** A handler started. */
  | { readonly type: 'started'; readonly id: string; readonly attempt: number }
  | { readonly type: 'error'; readonly message: string };

/** Environment variable carrying the {@link JobWorkerConfig}. */
export const JOB_WORKER_CONFIG_ENV = 'RELAYBUS_JOB_WORKER_CONFIG';
