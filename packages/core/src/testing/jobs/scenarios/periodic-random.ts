import { expect } from '../../expect';
import { sleep } from '../../wait-for';
import type { JobHarness } from '../harness';
import { expectTicks, FakeClock, iso, PeriodicRig } from '../periodic-rig';

const MINUTE = 60_000;
const TEN_MINUTES = 10 * MINUTE;
const MAX_RUNNING = 5;
const ID = 'berlin-ten-minutes';

/** How many ticks of a 10-minute schedule started at `start` are due at `at`, and the last of them. */
function due(start: number, at: number): { count: number; last: number | undefined } {
  const first = Math.floor(start / TEN_MINUTES) * TEN_MINUTES + TEN_MINUTES;
  if (at < first) return { count: 0, last: undefined };
  const last = Math.floor(at / TEN_MINUTES) * TEN_MINUTES;
  return { count: (last - first) / TEN_MINUTES + 1, last };
}

async function run(h: JobHarness, random: () => number, log: string[]): Promise<void> {
  // The night Europe/Berlin falls back (01:00 UTC, 2026-10-25): local 02:00 to 03:00 happens twice.
  const start = Date.UTC(2026, 9, 24, 22, 3);
  const end = Date.UTC(2026, 9, 25, 4, 0);
  const clock = new FakeClock(start);
  const rig = await PeriodicRig.open(h, clock, [
    { id: ID, spec: { cron: '*/10 * * * *', timeZone: 'Europe/Berlin' } },
  ]);
  const first = await rig.start();
  log.push(`start #${first.index}`);
  // The first tick is enqueued before any scheduler stops, so the schedule is known from then on.
  clock.set(start + 10 * MINUTE);
  await expectTicks(rig, ID, 1, due(start, clock.now).last);

  while (clock.now < end) {
    // Whole minutes: some stops land exactly on a tick.
    clock.advance((1 + Math.floor(random() * 25)) * MINUTE);
    const roll = random();
    if (roll < 0.35 && rig.running.length < MAX_RUNNING) {
      const process = await rig.start();
      log.push(`${iso(clock.now).slice(11, 16)} start #${process.index}`);
    } else if (roll < 0.65 && rig.running.length > 0) {
      const victim = rig.running[Math.floor(random() * rig.running.length)];
      const wait = random() < 0.5;
      if (victim !== undefined) {
        log.push(`${iso(clock.now).slice(11, 16)} stop #${victim.index}${wait ? '' : ' (not awaited)'}`);
        await rig.stop(victim, wait);
      }
    }
    await sleep(Math.floor(random() * 30));
    const seen = (await rig.counts()).get(ID) ?? 0;
    const { count } = due(start, clock.now);
    expect(seen, `never more jobs than ticks due (at ${iso(clock.now)})`).toBeLessThanOrEqual(count);
  }
  // Off any tick, so the final state does not depend on whether a tick is due at its exact instant.
  clock.advance(30_000);
  if (rig.running.length === 0) log.push(`end: start #${(await rig.start()).index}`);
  await rig.drain();
  const { count, last } = due(start, clock.now);
  await expectTicks(rig, ID, count, last, 'after every random start and stop: ');
  await h.quiet(100);
  expect((await rig.counts()).get(ID), 'one job per tick, after a quiet period').toBe(count);
}

/**
 * The randomised test of scenario 13: up to five schedulers started and closed at random (some closes not awaited)
 * while a fake clock crosses the fall-back night in Europe/Berlin. Failures name the seed and the actions taken.
 */
export async function randomSchedulers(h: JobHarness): Promise<void> {
  const log: string[] = [];
  try {
    await run(h, mulberry32(h.seed), log);
  } catch (error) {
    if (error instanceof Error) {
      error.message = `[seed ${h.seed}: pass { seed: ${h.seed} } to replay; actions: ${log.join(', ')}] ${error.message}`;
    }
    throw error;
  }
}

/** A seeded random number generator in [0, 1): the same seed replays the same choices. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
