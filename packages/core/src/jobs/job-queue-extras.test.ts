import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InvalidEnvelopeError, InvalidOptionError } from '../errors';
import { silentLogger } from '../logger';
import { metrics } from '../middleware/metrics';
import type { EventStore, StoredEvent } from '../store/event-store';
import { memoryEventStore } from '../store/memory-event-store';
import { createJobQueue } from './create-job-queue';
import { defineJob } from './define-job';
import { memoryJobBackend } from './memory/memory-job-backend';
import { JOB_ENQUEUED_EVENT } from './outbox-jobs';

const Work = defineJob('work:do', z.object({ n: z.number() }), {
  backoff: { initialDelayMs: 1, maxDelayMs: 2 },
});

describe('job metrics', () => {
  it('counts what happens to jobs, by queue and type, and exposes states and latency as gauges', async () => {
    const m = metrics({ prefix: 'app_' });
    const backend = memoryJobBackend();
    const a = createJobQueue({ jobs: [Work], queue: 'a', backend, logger: silentLogger });
    const b = createJobQueue({ jobs: [Work], queue: 'b', backend, logger: silentLogger });
    const stopA = a.registerMetrics(m, { intervalMs: 20 });
    const stopB = b.registerMetrics(m, { intervalMs: 20 });
    a.work({
      [Work.type]: ({ n }, ctx) => {
        if (n === 1 && ctx.attempt === 1) throw new Error('flaky');
        if (n === 2) throw new Error('always');
      },
    });
    await a.enqueue(Work, { n: 0 });
    await a.enqueue(Work, { n: 1 });
    await a.enqueue(Work, { n: 2 }, { attempts: 2 });
    await b.enqueue(Work, { n: 3 }, { delayMs: 60_000 });
    await vi.waitFor(() => {
      const snapshot = m.snapshot();
      const value = (name: string, labels: Record<string, string>) =>
        snapshot.counters[`app_${name}`]?.find((s) =>
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        )?.value ?? 0;
      expect(value('jobs_enqueued_total', { queue: 'a', type: 'work:do' })).toBe(3);
      expect(value('jobs_enqueued_total', { queue: 'b' })).toBe(1);
      expect(value('jobs_completed_total', { queue: 'a' })).toBe(2);
      expect(value('jobs_retried_total', { queue: 'a' })).toBe(2);
      expect(value('jobs_dead_total', { queue: 'a' })).toBe(1);
      expect(value('jobs_failed_total', { queue: 'a', code: 'Error' })).toBe(3);
      expect(snapshot.gauges['app_jobs_a_dead']).toBe(1);
      expect(snapshot.gauges['app_jobs_b_scheduled']).toBe(1);
    });
    const text = m.prometheus();
    expect(text).toContain('# TYPE app_jobs_started_total counter');
    expect(text).toContain('# TYPE app_job_duration_seconds histogram');
    expect(text).toMatch(/app_jobs_completed_total\{queue="a",type="work:do"\} 2/);
    stopA();
    stopB();
    expect(m.snapshot().counters['app_jobs_started_total']).toBeUndefined();
    await a.close();
    await b.close();
  });
});

describe('enqueue through an outbox store', () => {
  function outboxStore(): EventStore<{ tx: string }> & { appended: StoredEvent[] } {
    const inner = memoryEventStore();
    const appended: StoredEvent[] = [];
    return {
      ...inner,
      outbox: true,
      appended,
      async append(stream, events, options = {}) {
        const { transaction: _transaction, ...rest } = options;
        const result = await inner.append(stream, events, rest);
        appended.push(...result.events);
        return result;
      },
    };
  }

  it('appends the job in the transaction; the relay hands it over once, however often it delivers', async () => {
    const store = outboxStore();
    const jobs = createJobQueue({ jobs: [Work], store, logger: silentLogger });
    const result = await jobs.enqueue(Work, { n: 7 }, { transaction: { tx: 'T1' }, jobId: 'job-7' });
    expect(result).toEqual({ id: 'job-7', status: 'outbox' });
    expect(await jobs.get('job-7')).toBeUndefined();
    const [event] = store.appended;
    expect(event?.type).toBe(JOB_ENQUEUED_EVENT);
    if (event === undefined) throw new Error('nothing appended');
    expect(await jobs.receiveFromOutbox(event)).toEqual({ id: 'job-7', status: 'enqueued' });
    expect(await jobs.receiveFromOutbox(event)).toEqual({ id: 'job-7', status: 'enqueued' });
    expect((await jobs.inspect()).counts.pending).toBe(1);
    expect((await jobs.get('job-7'))?.payload).toEqual({ n: 7 });
    await jobs.close();
  });

  it('refuses an event of another queue, and a transaction without an outbox store', async () => {
    const store = outboxStore();
    const one = createJobQueue({ jobs: [Work], queue: 'one', store, logger: silentLogger });
    const two = createJobQueue({ jobs: [Work], queue: 'two', logger: silentLogger });
    await one.enqueue(Work, { n: 1 }, { transaction: { tx: 'T' } });
    const [event] = store.appended;
    if (event === undefined) throw new Error('nothing appended');
    await expect(two.receiveFromOutbox(event)).rejects.toBeInstanceOf(InvalidEnvelopeError);
    await expect(two.enqueue(Work, { n: 1 }, { transaction: {} as never })).rejects.toThrow(
      /"transaction" needs an outbox store/,
    );
    await expect(two.enqueue(Work, { n: 1 }, { transaction: {} as never })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await one.close();
    await two.close();
  });
});

describe('values stored with a job', () => {
  it('must be JSON-safe: a result that is not is dropped with a warning, a progress value is refused', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    const jobs = createJobQueue({ jobs: [Work], logger });
    let progressError: unknown;
    jobs.work({
      [Work.type]: async (_payload, ctx) => {
        await ctx.progress({ big: 1n }).catch((error: unknown) => {
          progressError = error;
        });
        return { big: 1n };
      },
    });
    const { id } = await jobs.enqueue(Work, { n: 1 });
    await vi.waitFor(async () => expect((await jobs.get(id))?.state).toBe('completed'));
    expect((await jobs.get(id))?.result).toBeUndefined();
    expect(warnings.some((message) => /result cannot be stored as JSON/.test(message))).toBe(true);
    expect(progressError).toBeInstanceOf(InvalidOptionError);
    expect(String(progressError)).toMatch(/ctx\.progress\(\).*must be JSON-safe/);
    await jobs.close();
  });
});
