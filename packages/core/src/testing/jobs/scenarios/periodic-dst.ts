import { expect } from '../../expect';
import type { JobHarness } from '../harness';
import { expectTicks, FakeClock, iso, PeriodicRig } from '../periodic-rig';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const HALF_HOUR = 30 * MINUTE;
const TIME_ZONE = 'Europe/Berlin';
const HALF_HOURLY = 'berlin-half-hourly';
const DAILY = 'berlin-daily-0230';

/** One DST change to cross: three days from `start`, the night of the change stepped finely. */
interface DstCase {
  /** 12:05 UTC, three days before the end. */
  readonly start: number;
  /** The night of the change (21:05 to 03:05 UTC, on the 3-hour grid from `start`), stepped by 20 minutes. */
  readonly night: readonly [from: number, to: number];
  /** At each noon (12:05 UTC), how many daily jobs the last day may have added: [at least, at most]. */
  readonly daily: ReadonlyArray<readonly [at: number, min: number, max: number]>;
  /** The daily schedule's last tick at the end. */
  readonly lastDaily: number;
}

/**
 * Spring forward, 2026-03-29: at 02:00 CET the clocks jump to 03:00 CEST, so 02:30 does not exist that day. A
 * parser may skip it or run it after the gap; never twice.
 */
const SPRING: DstCase = {
  start: Date.UTC(2026, 2, 27, 12, 5),
  night: [Date.UTC(2026, 2, 28, 21, 5), Date.UTC(2026, 2, 29, 3, 5)],
  daily: [
    [Date.UTC(2026, 2, 28, 12, 5), 1, 1],
    [Date.UTC(2026, 2, 29, 12, 5), 0, 1],
    [Date.UTC(2026, 2, 30, 12, 5), 1, 1],
  ],
  lastDaily: Date.UTC(2026, 2, 30, 0, 30),
};

/** Fall back, 2026-10-25: at 03:00 CEST the clocks go back to 02:00 CET, so 02:30 happens twice; it runs once. */
const FALL: DstCase = {
  start: Date.UTC(2026, 9, 23, 12, 5),
  night: [Date.UTC(2026, 9, 24, 21, 5), Date.UTC(2026, 9, 25, 3, 5)],
  daily: [
    [Date.UTC(2026, 9, 24, 12, 5), 1, 1],
    [Date.UTC(2026, 9, 25, 12, 5), 1, 1],
    [Date.UTC(2026, 9, 26, 12, 5), 1, 1],
  ],
  lastDaily: Date.UTC(2026, 9, 26, 1, 30),
};

/** A time as Europe/Berlin shows it, with its offset, for messages. */
function local(at: number): string {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone: TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(at);
  return `${text} (${new Date(at).toISOString().slice(0, 16)}Z)`;
}

/** The clock's stops: every 3 hours, and every 20 minutes through the night (never on a :00 or :30). */
function stops(dst: DstCase): number[] {
  const end = dst.start + 3 * 24 * HOUR;
  const [from, to] = dst.night;
  const times: number[] = [];
  for (let at = dst.start; at < end; ) {
    at += at >= from && at < to ? 20 * MINUTE : 3 * HOUR;
    times.push(at);
  }
  return times;
}

async function acrossDstChange(h: JobHarness, dst: DstCase): Promise<void> {
  const clock = new FakeClock(dst.start);
  const rig = await PeriodicRig.open(h, clock, [
    // A local half-hourly schedule keeps its 30-minute rhythm in UTC through both changes.
    { id: HALF_HOURLY, spec: { cron: '*/30 * * * *', timeZone: TIME_ZONE } },
    { id: DAILY, spec: { cron: '30 2 * * *', timeZone: TIME_ZONE } },
  ]);
  await rig.start();
  const firstHalfHour = Math.ceil(dst.start / HALF_HOUR) * HALF_HOUR;
  let dailyBefore = 0;
  for (const at of stops(dst)) {
    clock.set(at);
    const last = Math.floor(at / HALF_HOUR) * HALF_HOUR;
    const count = (last - firstHalfHour) / HALF_HOUR + 1;
    await expectTicks(rig, HALF_HOURLY, count, last, `"*/30 * * * *" in ${TIME_ZONE} at ${local(at)}: `);
    const check = dst.daily.find(([checkAt]) => checkAt === at);
    if (check === undefined) continue;
    const [, min, max] = check;
    let daily = 0;
    await rig.settle(
      async () => {
        daily = (await rig.counts()).get(DAILY) ?? 0;
        return daily >= dailyBefore + min;
      },
      () => `"30 2 * * *" in ${TIME_ZONE} to have at least ${dailyBefore + min} jobs (has ${daily})`,
    );
    const what = `"30 2 * * *" in ${TIME_ZONE}: jobs for the day before ${local(at)}`;
    expect(daily - dailyBefore, what).toBeGreaterThanOrEqual(min);
    expect(daily - dailyBefore, what).toBeLessThanOrEqual(max);
    dailyBefore = daily;
  }
  expect(iso(await rig.lastTick(DAILY)), `the last tick of "30 2 * * *" in ${TIME_ZONE}`).toBe(
    iso(dst.lastDaily),
  );
}

/** The spring-forward test of scenario 13. */
export function acrossSpringForward(h: JobHarness): Promise<void> {
  return acrossDstChange(h, SPRING);
}

/** The fall-back test of scenario 13. */
export function acrossFallBack(h: JobHarness): Promise<void> {
  return acrossDstChange(h, FALL);
}
