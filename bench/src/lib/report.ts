import { cpus } from 'node:os';
import type { BenchGroup } from './contender';
import { canCollectGarbage } from './gc';
import type { ContenderResult } from './measure';
import { type BenchSettings, settingsFor } from './settings';
import { median } from './stats';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** The line that says where and how the numbers were taken. */
export function formatHeader(settings: BenchSettings): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  return [
    `Node ${process.version}`,
    `${model} (${cpu.length} logical CPUs)`,
    `N = ${integer.format(settings.events)} events per run`,
    `W = ${integer.format(settings.window)} in flight`,
    `R = ${settings.runs} interleaved runs after 1 warm-up (median shown)`,
    `latency at ${integer.format(settings.latencyRatePerSec)} events/s for ${settings.latencyDurationMs} ms, median of ${settings.latencyRuns} runs`,
    'one process per contender',
    `GC before each run: ${canCollectGarbage ? 'yes' : 'no (run with --expose-gc)'}`,
  ].join(' · ');
}

/** A markdown table of one group, in the group's order, with ratios against its baseline and `compareWith`. */
export function formatTable(
  group: BenchGroup,
  results: ReadonlyArray<ContenderResult>,
  shared?: BenchSettings,
): string {
  const measured = new Set(group.measures ?? ['throughput', 'latency']);
  const references = [group.baseline, ...(group.compareWith ?? [])].map((name) => ({
    name,
    rate: medianRate(results.find((result) => result.name === name)),
  }));
  const columns: Array<{ title: string; cell: (result: ContenderResult) => string }> = [];
  if (measured.has('throughput')) {
    columns.push({ title: 'events/s', cell: (result) => integer.format(medianRate(result)) });
    for (const reference of references) {
      columns.push({
        title: `ratio vs ${reference.name}`,
        cell: (result) =>
          Number.isNaN(reference.rate) ? 'n/a' : `${(medianRate(result) / reference.rate).toFixed(2)}x`,
      });
    }
  }
  if (measured.has('latency')) {
    columns.push({ title: 'p50 µs', cell: (result) => formatMicros(result.latency?.p50Us) });
    columns.push({ title: 'p99 µs', cell: (result) => formatMicros(result.latency?.p99Us) });
  }
  if (measured.has('throughput')) {
    columns.push({
      title: 'events/s spread',
      cell: (result) => `±${((spread(result.eventsPerSec) / medianRate(result)) * 100).toFixed(0)}%`,
    });
  }
  const goals = (group.goals ?? []).map((goal) => {
    const { met, detail } = goal.check(results);
    return `- ${met ? 'met' : '**not met**'}: ${goal.description} (${detail})`;
  });
  return [
    `### ${group.title}`,
    '',
    ...(group.note === undefined ? [] : [group.note, '']),
    ...(group.settings === undefined || shared === undefined
      ? []
      : [formatGroupSettings(settingsFor(group, shared), measured), '']),
    `| contender | ${columns.map((column) => column.title).join(' | ')} |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} |`,
    ...results.map(
      (result) => `| ${[result.name, ...columns.map((column) => column.cell(result))].join(' | ')} |`,
    ),
    ...(goals.length === 0 ? [] : ['', ...goals]),
  ].join('\n');
}

/** The median events/s of a contender's runs; NaN when it is missing or throughput was not measured. */
export function medianRate(result: ContenderResult | undefined): number {
  return result === undefined ? Number.NaN : median(result.eventsPerSec);
}

/** The settings of a group that overrides the shared ones, for the measures it takes. */
function formatGroupSettings(settings: BenchSettings, measured: ReadonlySet<string>): string {
  const parts: string[] = [];
  if (measured.has('throughput')) {
    parts.push(
      `N = ${integer.format(settings.events)} events per run`,
      `W = ${integer.format(settings.window)} in flight`,
      `R = ${settings.runs} interleaved runs after 1 warm-up (median shown)`,
    );
  }
  if (measured.has('latency')) {
    parts.push(
      `latency at ${integer.format(settings.latencyRatePerSec)} events/s for ${settings.latencyDurationMs} ms ` +
        `(${settings.latencyPacing === 'timer' ? 'paced by a 1 ms timer' : 'paced on every event-loop turn'}), ` +
        `median of ${settings.latencyRuns} runs${measured.has('throughput') ? '' : ' after 1 warm-up'}`,
    );
  }
  return `Settings for this group: ${parts.join(' · ')}.`;
}

/** Half the range of the runs: how far the median could be off. */
function spread(values: ReadonlyArray<number>): number {
  return (Math.max(...values) - Math.min(...values)) / 2;
}

function formatMicros(us: number | undefined): string {
  if (us === undefined || Number.isNaN(us)) return 'n/a';
  if (us < 10) return us.toFixed(2);
  if (us < 1_000) return us.toFixed(1);
  return integer.format(us);
}
