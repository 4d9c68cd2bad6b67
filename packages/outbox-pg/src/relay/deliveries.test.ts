import type { StoredEvent, TransportMessage } from '@relaybus/core';
import {
  JOB_ENQUEUED_EVENT,
  memoryTransport,
  TransportUnavailableError,
  UnknownJobError,
} from '@relaybus/core';
import { describe, expect, it } from 'vitest';
import type { Destinations } from './deliveries';
import { deliverInOrder, isFinal, isUnreachable } from './deliveries';

let position = 0;
function event(label: string, job = false): StoredEvent {
  position += 1;
  return {
    id: label,
    type: job ? JOB_ENQUEUED_EVENT : 't.x',
    version: 1,
    time: new Date(0).toISOString(),
    source: 'test',
    metadata: {},
    data: job ? { queue: 'default', job: { id: label } } : { label },
    position: String(position).padStart(8, '0'),
    stream: label,
    streamVersion: 1,
  };
}

/** Destinations that record every call (`publish a,b` / `job j`) and fail the labels in `failing`. */
function recording(failing: ReadonlySet<string> = new Set()) {
  const calls: string[] = [];
  const inner = memoryTransport();
  const destinations: Destinations = {
    transport: {
      ...inner,
      async publish(messages: ReadonlyArray<TransportMessage>) {
        calls.push(`publish ${messages.map((m) => m.id).join(',')}`);
        const bad = messages.find((m) => failing.has(m.id));
        if (bad !== undefined) throw new Error(`refused ${bad.id}`);
      },
    },
    jobQueues: new Map([
      [
        'default',
        {
          name: 'default',
          async receiveFromOutbox(job) {
            calls.push(`job ${job.id}`);
            if (failing.has(job.id)) throw new TransportUnavailableError('redis', 'nowhere', 'is down');
            return { id: job.id, status: 'enqueued' as const };
          },
        },
      ],
    ]),
    acceptedAt: new Map(),
  };
  return { calls, destinations };
}

describe('deliverInOrder', () => {
  it('publishes each run of plain events in one call and hands each job over between them, in order', async () => {
    const { calls, destinations } = recording();
    const events = [event('a'), event('b'), event('j1', true), event('j2', true), event('c')];
    expect(await deliverInOrder(destinations, events)).toEqual({ delivered: 5 });
    expect(calls).toEqual(['publish a,b', 'job j1', 'job j2', 'publish c']);
    expect([...destinations.acceptedAt.keys()].sort()).toEqual(['queue:default', 'transport']);
  });

  it('narrows a failed run down to its event, and stops at a failing job', async () => {
    const run = recording(new Set(['b']));
    const outcome = await deliverInOrder(run.destinations, [event('a'), event('b'), event('c')]);
    expect(outcome).toMatchObject({ delivered: 1, error: new Error('refused b') });
    expect(run.calls).toEqual(['publish a,b,c', 'publish a', 'publish b']);

    const job = recording(new Set(['j']));
    const stopped = await deliverInOrder(job.destinations, [event('a'), event('j', true), event('c')]);
    expect(stopped).toMatchObject({ delivered: 1 });
    expect(job.calls).toEqual(['publish a', 'job j']);
    expect(job.destinations.acceptedAt.has('queue:default')).toBe(false);
  });

  it('refuses a job for a queue it does not have, naming the queues it has', async () => {
    const { destinations } = recording();
    const stray = { ...event('s', true), data: { queue: 'emails', job: { id: 's' } } };
    const outcome = await deliverInOrder(destinations, [stray]);
    expect(outcome).toMatchObject({
      delivered: 0,
      error: { name: 'UnknownJobQueueError', code: 'INVALID_ENVELOPE' },
    });
    if (!('error' in outcome)) throw new Error('expected a failure');
    expect(isFinal(outcome.error, stray, () => false)).toBe(true);
  });
});

describe('what parks and what waits', () => {
  it('queue refusals are final for jobs only; unreachable destinations are told by code', () => {
    const refusal = new TransportUnavailableError('redis', 'nowhere', 'is down');
    expect(isUnreachable(refusal)).toBe(true);
    expect(isUnreachable(new Error('TRANSPORT_UNAVAILABLE'))).toBe(false);
    const unknownJob = new UnknownJobError('search:reindex', ['orders:send_receipt'], 'in a test');
    expect(isFinal(unknownJob, { type: JOB_ENQUEUED_EVENT }, () => false)).toBe(true);
    expect(isFinal(unknownJob, { type: 't.x' }, () => false)).toBe(false);
    expect(isFinal(refusal, { type: JOB_ENQUEUED_EVENT }, () => false)).toBe(false);
    expect(isFinal(new Error('x'), { type: 't.x' }, () => true)).toBe(true);
  });
});
