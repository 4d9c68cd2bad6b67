import type { Envelope } from '@relaybus/core';
import { describe, expectTypeOf, it } from 'vitest';
import { WebSocket } from 'ws';
import { type BridgeSubscription, createBridgeClient, type SelectedEvent } from '../src/client/index';

type TaskCreated = Envelope<'task.created', { title: string }>;
type TaskDatesChanged = Envelope<'task.dates.changed', { endDate: string }>;
type ProjectCreated = Envelope<'project.created', { name: string }>;
type AppEvent = TaskCreated | TaskDatesChanged | ProjectCreated;

const client = createBridgeClient<AppEvent>({ url: 'ws://localhost:1/bridge', WebSocket });

describe('events are typed by the selector', () => {
  it('narrows the union to the listed types', () => {
    client.subscribe({ types: ['task.created', 'project.created'] }, (event) => {
      expectTypeOf(event).toEqualTypeOf<TaskCreated | ProjectCreated>();
    });
  });

  it('narrows the union to what a pattern matches, and adds the listed types', () => {
    client.subscribe({ pattern: 'task.#' }, (event) => {
      expectTypeOf(event).toEqualTypeOf<TaskCreated | TaskDatesChanged>();
    });
    client.subscribe({ pattern: '*.created', types: ['task.dates.changed'] }, (event) => {
      expectTypeOf(event.type).toEqualTypeOf<'task.created' | 'project.created' | 'task.dates.changed'>();
    });
  });

  it('keeps the whole union for a selector whose type does not say', () => {
    const pattern: string = 'task.*';
    client.subscribe({ pattern }, (event) => expectTypeOf(event).toEqualTypeOf<AppEvent>());
    expectTypeOf<SelectedEvent<AppEvent, { subject: 't1' }>>().toEqualTypeOf<AppEvent>();
  });

  it('refuses a type that is not in the union', () => {
    // @ts-expect-error 'task.deleted' is not a type of AppEvent.
    client.subscribe({ types: ['task.deleted'] }, () => {});
  });

  it('gives delivery info and a subscription handle', () => {
    const sub = client.subscribe({ types: ['task.created'] }, (_event, info) => {
      expectTypeOf(info.replayed).toEqualTypeOf<boolean>();
      expectTypeOf(info.position).toEqualTypeOf<string | undefined>();
    });
    expectTypeOf(sub).toEqualTypeOf<BridgeSubscription>();
    expectTypeOf(sub.position).toEqualTypeOf<string | undefined>();
  });
});
