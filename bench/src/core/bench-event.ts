import { defineEvent } from '@relaybus/core';
import { z } from 'zod';

/** The event every contender publishes and handles. */
export const BENCH_EVENT_TYPE = 'bench.event';

/** The payload schema: relaybus validates with it, peers call its `.parse` when validation is on. */
export const benchSchema = z.object({ id: z.number(), name: z.string() });

export type BenchPayload = z.infer<typeof benchSchema>;

export const BenchEvent = defineEvent(BENCH_EVENT_TYPE, benchSchema);

/** A fresh payload per publish, as an application would build one. */
export function payload(id: number): BenchPayload {
  return { id, name: 'x' };
}
