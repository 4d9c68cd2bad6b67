import { Cron } from 'croner';
import { InvalidOptionError } from '../errors';
import type { ScheduleSpec } from './types';

/** The tick strictly after an instant (epoch ms), or `undefined` when there is none. */
export type NextTick = (after: number) => number | undefined;

/**
 * Compiles a schedule into its tick function: cron expressions through croner (a well-kept parser that handles time
 * zones and DST changes: a wall-clock time skipped by spring-forward runs at the next valid time, one repeated by
 * fall-back runs once), intervals as whole multiples of `everyMs` since the epoch.
 *
 * @throws {@link InvalidOptionError} for a malformed expression, an unknown time zone, an expression that never
 * fires, or an interval that is not a whole number of milliseconds >= 1000.
 */
export function compileSchedule(where: string, spec: ScheduleSpec, now: number): NextTick {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidOptionError(
      where,
      'spec',
      "must be { cron: '0 3 * * *', timeZone? } or { everyMs: 60000 }",
    );
  }
  if ('everyMs' in spec) {
    const { everyMs } = spec;
    if (typeof everyMs !== 'number' || !Number.isSafeInteger(everyMs) || everyMs < 1_000) {
      throw new InvalidOptionError(
        where,
        'everyMs',
        `must be a whole number of milliseconds >= 1000, got ${JSON.stringify(everyMs)}`,
      );
    }
    return (after) => (Math.floor(after / everyMs) + 1) * everyMs;
  }
  const { cron, timeZone } = spec;
  if (typeof cron !== 'string' || cron.trim() === '') {
    throw new InvalidOptionError(where, 'cron', 'must be a cron expression such as "0 3 * * *"');
  }
  if (timeZone !== undefined && (typeof timeZone !== 'string' || !isTimeZone(timeZone))) {
    throw new InvalidOptionError(
      where,
      'timeZone',
      `(${JSON.stringify(timeZone)}) is not an IANA time zone such as "Europe/Berlin"`,
    );
  }
  let pattern: Cron;
  try {
    pattern = new Cron(cron, { paused: true, ...(timeZone === undefined ? {} : { timezone: timeZone }) });
  } catch (error) {
    throw new InvalidOptionError(
      where,
      'cron',
      `(${JSON.stringify(cron)}) is malformed: ${(error as Error).message}`,
    );
  }
  const next: NextTick = (after) => pattern.nextRun(new Date(after))?.getTime() ?? undefined;
  if (next(now) === undefined) {
    throw new InvalidOptionError(
      where,
      'cron',
      `(${JSON.stringify(cron)}) never fires after ${new Date(now).toISOString()}`,
    );
  }
  return next;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
