import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  consumeContext,
  countingNext,
  publishContext,
  testEnvelope,
} from '../../test/fixtures/middleware-context';
import { InvalidOptionError, RelaybusError } from '../errors';
import { metrics } from './metrics';

const fail = (error: unknown) => () => Promise.reject(error);

describe('metrics()', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts publishes and failed publishes by type and code', async () => {
    const m = metrics();
    await m.publish?.(publishContext(), countingNext());
    await m.publish?.(publishContext(), countingNext());
    await expect(
      m.publish?.(publishContext(), fail(new RelaybusError('CLOSED', 'closed'))),
    ).rejects.toThrow();
    const snapshot = m.snapshot();
    expect(snapshot.published).toEqual([{ labels: { type: 'test.happened' }, value: 2 }]);
    expect(snapshot.publishFailed).toEqual([{ labels: { type: 'test.happened', code: 'CLOSED' }, value: 1 }]);
  });

  it('counts handled and failed attempts by type, group and code, and times every attempt', async () => {
    const m = metrics();
    await m.consume?.(consumeContext({ group: 'a' }), countingNext());
    await m.consume?.(consumeContext({ group: undefined }), countingNext());
    const boom = new TypeError('bad');
    await expect(m.consume?.(consumeContext({ group: 'a' }), fail(boom))).rejects.toBe(boom);
    await expect(m.consume?.(consumeContext({ group: 'a' }), fail('string'))).rejects.toBe('string');
    const snapshot = m.snapshot();
    expect(snapshot.handled).toEqual([
      { labels: { type: 'test.happened', group: 'a' }, value: 1 },
      { labels: { type: 'test.happened', group: '' }, value: 1 },
    ]);
    expect(snapshot.failed).toEqual([
      { labels: { type: 'test.happened', group: 'a', code: 'TypeError' }, value: 1 },
      { labels: { type: 'test.happened', group: 'a', code: 'string' }, value: 1 },
    ]);
    expect(snapshot.handlerDurationSeconds.map((h) => h.count)).toEqual([3, 1]);
    expect(snapshot.endToEndLatencySeconds.map((h) => h.count)).toEqual([1, 1]);
  });

  it('measures end-to-end latency from the envelope time and estimates quantiles from buckets', async () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:10.000Z') });
    const m = metrics({ latencyBucketsSeconds: [1, 5, 10] });
    for (const time of ['2030-01-01T00:00:08.000Z', '2030-01-01T00:00:07.000Z', '2030-01-01T00:00:01.000Z']) {
      await m.consume?.(consumeContext({ envelope: testEnvelope({ time }) }), countingNext());
    }
    const [latency] = m.snapshot().endToEndLatencySeconds;
    expect(latency).toMatchObject({ count: 3, sum: 2 + 3 + 9 });
    // Buckets hold 0 | 2 | 1 values; each rank is interpolated linearly inside the bucket that holds it.
    expect(latency?.p50).toBeCloseTo(1 + (4 * 1.5) / 2);
    expect(latency?.p90).toBeCloseTo(5 + (5 * (2.7 - 2)) / 1);
    expect(latency?.p99).toBeCloseTo(5 + 5 * 0.97);
  });

  it('renders the Prometheus text format with HELP, TYPE, escaped labels and cumulative buckets', async () => {
    const m = metrics({ durationBucketsSeconds: [0.5, 1], latencyBucketsSeconds: [60] });
    await m.publish?.(publishContext(), countingNext());
    await m.consume?.(consumeContext({ group: 'we"ird\\group\nx' }), countingNext());
    await expect(m.consume?.(consumeContext({ group: 'g' }), fail(new Error('x')))).rejects.toThrow();
    const text = m.prometheus();
    const weird = 'type="test.happened",group="we\\"ird\\\\group\\nx"';
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain(
      '# HELP relaybus_published_total Events published, by type.\n' +
        '# TYPE relaybus_published_total counter\n' +
        'relaybus_published_total{type="test.happened"} 1\n',
    );
    expect(text).toContain(`relaybus_handled_total{${weird}} 1\n`);
    expect(text).toContain('relaybus_failed_total{type="test.happened",group="g",code="Error"} 1\n');
    expect(text).toContain('# TYPE relaybus_handler_duration_seconds histogram\n');
    expect(text).toContain(
      `relaybus_handler_duration_seconds_bucket{${weird},le="0.5"} 1\n` +
        `relaybus_handler_duration_seconds_bucket{${weird},le="1"} 1\n` +
        `relaybus_handler_duration_seconds_bucket{${weird},le="+Inf"} 1\n` +
        `relaybus_handler_duration_seconds_sum{${weird}} `,
    );
    expect(text).toContain(`relaybus_handler_duration_seconds_count{${weird}} 1\n`);
    expect(text).toContain('relaybus_handler_duration_seconds_count{type="test.happened",group="g"} 1\n');
    expect(text).toContain(`relaybus_end_to_end_latency_seconds_bucket{${weird},le="60"} 1\n`);
    expect(text).toContain('relaybus_end_to_end_latency_seconds_count{type="test.happened",group="g"} 0\n');
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) [a-zA-Z_:][\w:]* .*|[a-zA-Z_:][\w:]*(\{.*\})? (\S+))$/);
    }
  });

  it('exposes registered gauges under the prefix, skips broken ones, and unregisters', () => {
    const m = metrics({ prefix: 'app_' });
    let depth = 3;
    const remove = m.registerGauge('queue_depth', 'Jobs waiting.\nBy queue \\ all.', () => depth);
    m.registerGauge('broken', 'Throws.', () => {
      throw new Error('nope');
    });
    depth = 4;
    expect(m.snapshot().gauges).toEqual({ app_queue_depth: 4 });
    expect(m.prometheus()).toContain(
      '# HELP app_queue_depth Jobs waiting.\\nBy queue \\\\ all.\n# TYPE app_queue_depth gauge\napp_queue_depth 4\n',
    );
    expect(m.prometheus()).not.toContain('app_broken');
    expect(() => m.registerGauge('queue_depth', 'again', () => 1)).toThrow(InvalidOptionError);
    expect(() => m.registerGauge('handled_total', 'clash', () => 1)).toThrow(/already registered/);
    expect(() => m.registerGauge('bad-name', 'x', () => 1)).toThrow(InvalidOptionError);
    remove();
    expect(m.snapshot().gauges).toEqual({});
  });

  it('validates its options', () => {
    expect(() => metrics({ prefix: '1x' })).toThrow(InvalidOptionError);
    expect(() => metrics({ durationBucketsSeconds: [] })).toThrow(/durationBucketsSeconds/);
    expect(() => metrics({ latencyBucketsSeconds: [1, 1] })).toThrow(/latencyBucketsSeconds/);
    expect(() => metrics({ durationBucketsSeconds: [0, 1] })).toThrow(InvalidOptionError);
    expect(() => metrics({ durationBucketsSeconds: [1, Number.POSITIVE_INFINITY] })).toThrow(
      InvalidOptionError,
    );
  });
});
