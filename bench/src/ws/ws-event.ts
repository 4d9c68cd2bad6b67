import { defineEvent, type Envelope, uuidv7 } from '@relaybus/core';
import { z } from 'zod';

/** The type of the event every server broadcasts. */
export const WS_EVENT_TYPE = 'bench.broadcast';

/** `source` of every envelope, the bus's and the hand-built ones alike. */
export const WS_EVENT_SOURCE = 'bench';

/**
 * The payload: which run and broadcast it belongs to (the load generator counts deliveries per broadcast with
 * them) and when the server sent it (epoch ms with µs decimals, `performance.timeOrigin + performance.now()`).
 * With the envelope around it, about 210 bytes of JSON.
 */
export const wsEventSchema = z.object({
  run: z.number(),
  seq: z.number(),
  sentAt: z.number(),
  room: z.string(),
});

export type WsEventData = z.infer<typeof wsEventSchema>;

/** What relaybus publishes (validated by zod on publish). */
export const WsBenchEvent = defineEvent(WS_EVENT_TYPE, wsEventSchema);

/** A clock that reads the same in every process of the machine, in epoch milliseconds. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** The payload of broadcast `seq` of run `run`, stamped now. */
export function eventData(run: number, seq: number): WsEventData {
  return { run, seq, sentAt: now(), room: 'r1' };
}

/**
 * The envelope relaybus would build for `data`, built by hand (no validation) for the contenders that are not
 * relaybus, so every contender sends the same fields.
 */
export function rawEnvelope(data: WsEventData): Envelope<typeof WS_EVENT_TYPE, WsEventData> {
  return {
    id: uuidv7(),
    type: WS_EVENT_TYPE,
    version: 1,
    time: new Date().toISOString(),
    source: WS_EVENT_SOURCE,
    metadata: {},
    data,
  };
}

/** The frame the ws-bridge sends for an event (`EventMessage` of its protocol); raw `ws` sends the same bytes. */
export function eventFrame(envelope: Envelope): { readonly type: 'event'; readonly event: Envelope } {
  return { type: 'event', event: envelope };
}
