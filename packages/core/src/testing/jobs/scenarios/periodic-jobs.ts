import type { ScheduleSpec } from '../../../jobs/types';
import { expect } from '../../expect';
import { expectError, expectOption, thrownBy } from '../assertions';
import type { JobHarness } from '../harness';
import { expectTicks, FakeClock, PeriodicRig, Tick } from '../periodic-rig';
import type { JobScenario } from '../scenario';
import { acrossFallBack, acrossSpringForward } from './periodic-dst';
import { randomSchedulers } from './periodic-random';

const MINUTE = 60_000;
const ORIGIN = Date.UTC(2026, 0, 15, 9, 0, 0);

async function intervalTicks(h: JobHarness): Promise<void> {
  const start = ORIGIN + 30_000;
  const clock = new FakeClock(start);
  const id = 'every-minute';
  const rig = await PeriodicRig.open(h, clock, [{ id, spec: { everyMs: MINUTE } }]);
  await rig.start();
  await expectTicks(rig, id, 0, undefined, 'a new schedule starts with its next tick: ');
  for (const minutes of [1, 2, 3]) {
    clock.set(start + minutes * MINUTE);
    await expectTicks(rig, id, minutes, ORIGIN + minutes * MINUTE);
  }
  clock.set(start + 6 * MINUTE);
  await expectTicks(rig, id, 6, ORIGIN + 6 * MINUTE, 'missed ticks are caught up: ');
  await rig.start();
  clock.advance(MINUTE);
  await expectTicks(rig, id, 7, ORIGIN + 7 * MINUTE, 'with a second scheduler: ');
  await h.quiet();
  const jobs = await rig.jobs();
  expect(
    jobs.map((job) => ({ type: job.type, payload: job.payload })),
    'each tick enqueued the schedule’s job with its payload',
  ).toEqual(jobs.map(() => ({ type: Tick.type, payload: { label: id } })));
}

async function catchUpLimit(h: JobHarness): Promise<void> {
  const start = ORIGIN + 30_000;
  const clock = new FakeClock(start);
  const id = 'limited';
  const rig = await PeriodicRig.open(h, clock, [{ id, spec: { everyMs: MINUTE } }], { maxCatchUp: 2 });
  await rig.start();
  clock.set(start + MINUTE);
  await expectTicks(rig, id, 1, ORIGIN + MINUTE);
  clock.set(start + 6 * MINUTE);
  await expectTicks(
    rig,
    id,
    3,
    ORIGIN + 6 * MINUTE,
    'after 5 missed ticks with maxCatchUp 2, only the latest 2: ',
  );
}

async function manySchedulers(h: JobHarness, schedulers: number): Promise<void> {
  const FIVE_MINUTES = 5 * MINUTE;
  const start = ORIGIN + 10_000;
  const clock = new FakeClock(start);
  const id = 'every-five-minutes';
  const rig = await PeriodicRig.open(h, clock, [{ id, spec: { cron: '*/5 * * * *' } }]);
  for (let index = 0; index < schedulers; index++) await rig.start();
  // Steps of 100 s: several steps see no tick, none lands exactly on one.
  for (let step = 1; step <= 18; step++) {
    clock.advance(100_000);
    const last = Math.floor(clock.now / FIVE_MINUTES) * FIVE_MINUTES;
    const count = Math.max(0, (last - ORIGIN) / FIVE_MINUTES);
    await expectTicks(
      rig,
      id,
      count,
      count === 0 ? undefined : last,
      `${schedulers} schedulers, step ${step}: `,
    );
  }
  await h.quiet(100);
  expect((await rig.counts()).get(id), `${schedulers} schedulers: one job per tick`).toBe(6);
}

async function removeSchedule(h: JobHarness): Promise<void> {
  const start = ORIGIN + 30_000;
  const clock = new FakeClock(start);
  const rig = await PeriodicRig.open(h, clock, [
    { id: 'removed', spec: { everyMs: MINUTE } },
    { id: 'kept', spec: { everyMs: MINUTE } },
  ]);
  const process = await rig.start();
  clock.set(start + MINUTE);
  await expectTicks(rig, 'removed', 1, ORIGIN + MINUTE);
  expect(process.scheduler.remove('removed'), 'remove() of a schedule it runs').toBe(true);
  expect(process.scheduler.remove('removed'), 'remove() of a schedule it no longer runs').toBe(false);
  clock.set(start + 4 * MINUTE);
  await expectTicks(rig, 'kept', 4, ORIGIN + 4 * MINUTE, 'the other schedule goes on: ');
  await expectTicks(rig, 'removed', 1, ORIGIN + MINUTE, 'a removed schedule enqueues nothing more: ');
}

const INVALID_SCHEDULES: ReadonlyArray<readonly [string, ScheduleSpec, RegExp]> = [
  ['a malformed cron expression', { cron: 'every day at noon' }, /cron/],
  ['a cron field out of range', { cron: '61 * * * *' }, /cron/],
  ['an unknown time zone', { cron: '0 3 * * *', timeZone: 'Mars/Olympus_Mons' }, /timeZone/],
  ['a cron expression that never fires', { cron: '0 0 30 2 *' }, /cron/],
  ['everyMs 0', { everyMs: 0 }, /everyMs/],
  ['a negative everyMs', { everyMs: -1_000 }, /everyMs/],
  ['a fractional everyMs', { everyMs: 1.5 }, /everyMs/],
  ['everyMs NaN', { everyMs: Number.NaN }, /everyMs/],
];

async function invalidSchedules(h: JobHarness): Promise<void> {
  const jobs = await h.queue([Tick]);
  const scheduler = jobs.scheduler();
  for (const [index, [what, spec, option]] of INVALID_SCHEDULES.entries()) {
    const error = thrownBy(
      () => scheduler.add(`bad-${index}`, Tick, { label: 'bad' }, spec),
      `add() with ${what}`,
    );
    expectError(
      error,
      { name: 'InvalidOptionError', code: 'INVALID_OPTION' },
      `add() with ${what} (${JSON.stringify(spec)})`,
    );
    expectOption(error, option, `add() with ${what}`);
  }
  await scheduler.close();
  expect(await h.totalJobs(jobs), 'refused schedules enqueue nothing').toBe(0);
}

/** Scenario 13: each tick of a periodic schedule is enqueued exactly once, by any number of schedulers. */
export const periodicJobsScenario: JobScenario = {
  name: 'periodic-jobs',
  tests: [
    {
      title:
        'an interval schedule starts with its next tick and enqueues each tick once, missed ones caught up',
      run: intervalTicks,
    },
    { title: 'after an outage, only the latest maxCatchUp missed ticks are enqueued', run: catchUpLimit },
    {
      title: '3 schedulers on one cron schedule enqueue exactly one job per tick',
      run: (h) => manySchedulers(h, 3),
    },
    {
      title: '5 schedulers on one cron schedule enqueue exactly one job per tick',
      run: (h) => manySchedulers(h, 5),
    },
    {
      title: 'a cron schedule in Europe/Berlin enqueues each tick once across the spring-forward night',
      run: acrossSpringForward,
    },
    {
      title: 'a cron schedule in Europe/Berlin enqueues each tick once across the fall-back night',
      run: acrossFallBack,
    },
    {
      title:
        'schedulers started and closed at random while the clock crosses a DST change enqueue every tick once',
      run: randomSchedulers,
    },
    {
      title: 'remove() stops one schedule in that scheduler; its other schedules go on',
      run: removeSchedule,
    },
    {
      title:
        'a malformed cron expression, an unknown time zone, an expression that never fires and a bad interval throw InvalidOptionError',
      run: invalidSchedules,
    },
  ],
};
