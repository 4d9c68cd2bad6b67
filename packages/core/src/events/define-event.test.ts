import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidEnvelopeError, InvalidOptionError, ValidationError } from '../errors';
import { defineEvent, upcastData } from './define-event';

const TaskCreated = defineEvent('task.created', z.object({ taskId: z.string(), title: z.string().min(1) }), {
  key: (data) => data.taskId,
});

describe('defineEvent', () => {
  it('creates a validated envelope with a UUIDv7 id, time, key and empty metadata', () => {
    const event = TaskCreated.create({ taskId: 't1', title: 'Write' });
    expect(event).toMatchObject({
      type: 'task.created',
      version: 1,
      key: 't1',
      metadata: {},
      source: 'relaybus',
    });
    expect(event.data).toEqual({ taskId: 't1', title: 'Write' });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(event.time).toISOString()).toBe(event.time);
    expect(TaskCreated.is(event)).toBe(true);
  });

  it('lists every issue with its path when the payload is invalid', () => {
    let caught: unknown;
    try {
      TaskCreated.create({ taskId: 7, title: '' } as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.eventType).toBe('task.created');
    expect(error.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['taskId', 'title']);
    expect(error.message).toContain('task.created');
    expect(error.message).toContain('taskId');
  });

  it('takes envelope options and prefers an explicit key', () => {
    const event = TaskCreated.create(
      { taskId: 't1', title: 'Write' },
      { key: 'k', subject: 's', correlationId: 'c', causationId: 'x', metadata: { a: 'b' }, source: 'api' },
    );
    expect(event).toMatchObject({
      key: 'k',
      subject: 's',
      correlationId: 'c',
      causationId: 'x',
      source: 'api',
    });
    expect(event.metadata).toEqual({ a: 'b' });
  });

  it('refuses malformed types, versions and upcasters', () => {
    const schema = z.object({});
    expect(() => defineEvent('task..created', schema)).toThrow(InvalidOptionError);
    expect(() => defineEvent('task.*', schema)).toThrow(/type/);
    expect(() => defineEvent('a', schema, { version: 0 })).toThrow(/version/);
    expect(() => defineEvent('a', schema, { version: 2, upcast: { 2: (v) => v } })).toThrow(/upcast\.2/);
    expect(() => defineEvent('a', {} as never)).toThrow(/Standard Schema/);
  });

  it('upcasts older versions step by step and refuses versions it cannot read', () => {
    const Renamed = defineEvent('task.renamed', z.object({ title: z.string(), by: z.string() }), {
      version: 3,
      upcast: {
        1: (v1) => ({ title: (v1 as { name: string }).name }),
        2: (v2) => ({ ...(v2 as object), by: 'unknown' }),
      },
    });
    expect(upcastData(Renamed, 1, { name: 'A' })).toEqual({ title: 'A', by: 'unknown' });
    expect(upcastData(Renamed, 3, { title: 'B', by: 'me' })).toEqual({ title: 'B', by: 'me' });
    expect(() => upcastData(Renamed, 4, {})).toThrow(InvalidEnvelopeError);
    const Gapped = defineEvent('x', z.object({}), { version: 3, upcast: { 2: (v) => v } });
    expect(() => upcastData(Gapped, 1, {})).toThrow(/no upcaster reads version 1/);
  });

  it('refuses to create synchronously with an async schema', () => {
    const Async = defineEvent(
      'async.event',
      z.object({ a: z.string() }).refine(async () => true),
    );
    expect(() => Async.create({ a: 'x' })).toThrow(/asynchronously/);
  });
});
