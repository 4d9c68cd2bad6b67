import type { ClaimedJob, JobRecord, NewJob } from './backend';

/** What happened to a job, as metrics see it. Durations in seconds. */
export interface JobEvents {
  enqueued(job: NewJob): void;
  started(job: ClaimedJob): void;
  completed(job: JobRecord, seconds: number): void;
  failed(job: JobRecord, seconds: number, code: string, outcome: 'retry' | 'dead' | 'drop'): void;
}

/** Events nobody listens to. */
export const NO_JOB_EVENTS: JobEvents = {
  enqueued: () => {},
  started: () => {},
  completed: () => {},
  failed: () => {},
};

/** Fans events out to every listener; listeners come and go. */
export class JobEventHub implements JobEvents {
  private readonly listeners = new Set<JobEvents>();

  add(listener: JobEvents): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  enqueued(job: NewJob): void {
    for (const listener of this.listeners) listener.enqueued(job);
  }

  started(job: ClaimedJob): void {
    for (const listener of this.listeners) listener.started(job);
  }

  completed(job: JobRecord, seconds: number): void {
    for (const listener of this.listeners) listener.completed(job, seconds);
  }

  failed(job: JobRecord, seconds: number, code: string, outcome: 'retry' | 'dead' | 'drop'): void {
    for (const listener of this.listeners) listener.failed(job, seconds, code, outcome);
  }
}
