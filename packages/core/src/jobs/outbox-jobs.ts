import { InvalidEnvelopeError } from '../errors';
import type { Envelope } from '../events/envelope';
import { JOB_PRIORITIES, type NewJob } from './backend';
import type { JobCatalog } from './job-catalog';

/**
 * The event type a job queue appends to an outbox store for `enqueue(..., { transaction })`. Its relay hands such
 * events to the queue (`JobQueue.receiveFromOutbox`) instead of publishing them.
 *
 * @example
 * ```ts
 * if (event.type === JOB_ENQUEUED_EVENT) await jobs.receiveFromOutbox(event);
 * ```
 */
export const JOB_ENQUEUED_EVENT = 'relaybus.job.enqueued';

/**
 * The job an outbox event carries, checked: it must be for `queue` and of a type in the catalog.
 *
 * @throws `InvalidEnvelopeError` for an event that is not a job of this queue, `UnknownJobError` for a type the
 * catalog does not know.
 */
export function readOutboxJob(event: Envelope, queue: string, catalog: JobCatalog): NewJob {
  if (event.type !== JOB_ENQUEUED_EVENT) {
    throw new InvalidEnvelopeError(`event ${event.id} is a "${event.type}", not a "${JOB_ENQUEUED_EVENT}"`);
  }
  const data = event.data as { queue?: unknown; job?: Partial<NewJob> } | null;
  if (data === null || typeof data !== 'object' || data.queue !== queue) {
    throw new InvalidEnvelopeError(
      `event ${event.id} holds a job for queue ${JSON.stringify(data?.queue)}, handed to queue "${queue}"; register each queue with the relay`,
    );
  }
  const job = data.job;
  const valid =
    typeof job === 'object' &&
    job !== null &&
    typeof job.id === 'string' &&
    typeof job.type === 'string' &&
    typeof job.runAt === 'number' &&
    typeof job.enqueuedAt === 'number' &&
    typeof job.maxAttempts === 'number' &&
    typeof job.maxCrashes === 'number' &&
    typeof job.timeoutMs === 'number' &&
    JOB_PRIORITIES.includes(job.priority as NewJob['priority']);
  if (!valid) throw new InvalidEnvelopeError(`event ${event.id} does not hold a well-formed job`);
  catalog.require(job.type, `in an outbox event for queue "${queue}"`);
  return job as NewJob;
}
