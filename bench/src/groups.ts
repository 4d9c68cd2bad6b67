import { AMQP_PARTS, type AmqpPart, runAmqpBench } from './amqp/amqp-bench';
import { noValidationGroup } from './core/no-validation';
import { validationGroup } from './core/validation';
import { JOBS_PARTS, type JobsPart, runJobsBench } from './jobs/jobs-bench';
import type { BenchGroup } from './lib/contender';
import { NATS_PARTS, type NatsPart, runNatsBench } from './nats/nats-bench';
import { POSTGRES_PARTS, type PostgresPart, runPostgresBench } from './postgres/postgres-bench';
import { REDIS_GROUPS } from './redis/groups';
import { runMemoryStoreBench } from './store/memory-store';
import { runCriticalPathBench } from './task-manager/critical-path';
import { runWsBench, WS_PARTS, type WsPart } from './ws/ws-bench';

/** Every benchmark group, in report order. Adapters add theirs here. */
export const GROUPS: ReadonlyArray<BenchGroup> = [noValidationGroup, validationGroup, ...REDIS_GROUPS];

/** The groups selected by CLI filters: a filter selects the groups whose id is it or starts with `<filter>/`. */
export function selectGroups(filters: ReadonlyArray<string>): BenchGroup[] {
  if (filters.length === 0) return [...GROUPS];
  return GROUPS.filter((group) =>
    filters.some((filter) => group.id === filter || group.id.startsWith(`${filter}/`)),
  );
}

/**
 * A benchmark with its own runner and report rather than the contenders of a {@link BenchGroup}: selected by
 * `<id>` (every part) or `<id>/<part>`.
 */
export interface BenchSuite<TPart extends string = string> {
  readonly id: string;
  readonly parts: ReadonlyArray<TPart>;
  /** Runs the selected parts; `log` reports progress, `print` each finished section of the report. */
  run(
    parts: ReadonlySet<TPart>,
    log: (message: string) => void,
    print: (section: string) => void,
  ): Promise<void>;
}

/** Every suite, in report order, after the groups. */
export const SUITES: ReadonlyArray<BenchSuite> = [
  {
    id: 'store',
    parts: ['memory'],
    run: async (_parts, log, print) => print(await runMemoryStoreBench(log)),
  },
  {
    id: 'postgres',
    parts: POSTGRES_PARTS,
    run: async (parts, log, print) => print(await runPostgresBench(log, parts as ReadonlySet<PostgresPart>)),
  },
  {
    id: 'jobs',
    parts: JOBS_PARTS,
    run: (parts, log, print) => runJobsBench(parts as ReadonlySet<JobsPart>, log, print),
  },
  {
    id: 'ws',
    parts: WS_PARTS,
    run: (parts, log, print) => runWsBench(parts as ReadonlySet<WsPart>, log, print),
  },
  {
    id: 'amqp',
    parts: AMQP_PARTS,
    run: (parts, log, print) => runAmqpBench(parts as ReadonlySet<AmqpPart>, log, print),
  },
  {
    id: 'nats',
    parts: NATS_PARTS,
    run: (parts, log, print) => runNatsBench(parts as ReadonlySet<NatsPart>, log, print),
  },
  {
    id: 'task-manager',
    parts: ['critical-path'],
    run: async (_parts, log, print) => print(await runCriticalPathBench(log)),
  },
];

/** The parts of `suite` the CLI filters select: all of them for `<id>` (or no filter), one for `<id>/<part>`. */
export function selectParts(suite: BenchSuite, filters: ReadonlyArray<string>): Set<string> {
  return new Set(
    suite.parts.filter(
      (part) =>
        filters.length === 0 ||
        filters.some((filter) => filter === suite.id || filter === `${suite.id}/${part}`),
    ),
  );
}
