import { median } from '../lib/stats';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A whole number with thousands separators. */
export function fmt(value: number): string {
  return Number.isNaN(value) ? 'n/a' : integer.format(value);
}

/** A ratio such as `2.31x`. */
export function ratio(value: number, reference: number): string {
  const result = value / reference;
  return Number.isFinite(result) ? `${result.toFixed(2)}x` : 'n/a';
}

/** Milliseconds from microseconds, with two decimals. */
export function ms(us: number): string {
  return Number.isNaN(us) ? 'n/a' : (us / 1_000).toFixed(2);
}

/** Seconds from milliseconds, with one decimal. */
export function seconds(valueMs: number): string {
  return (valueMs / 1_000).toFixed(1);
}

/** Half the range of some runs, relative to their median: how far the median could be off. */
export function spread(values: ReadonlyArray<number>): string {
  if (values.length === 0) return 'n/a';
  return `±${(((Math.max(...values) - Math.min(...values)) / 2 / median(values)) * 100).toFixed(0)}%`;
}

/** A goal checked against the results, printed as met or not met under its table. */
export interface Goal {
  readonly description: string;
  readonly met: boolean;
  /** The figures that decide it. */
  readonly detail: string;
}

/** A table cell that reads as a figure (right-aligned): digits, separators, units of the tables, or none. */
const FIGURE = /^(n\/a|±?[\d.,]+(x|%)?|)$/;

/** One part's section: title, how it ran, a markdown table (figures right-aligned) and its goals. */
export function section(
  title: string,
  notes: ReadonlyArray<string>,
  head: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  goals: ReadonlyArray<Goal>,
): string {
  const align = head.map((_, index) =>
    index > 0 && rows.every((row) => FIGURE.test(row[index] ?? '')) ? '---:' : '---',
  );
  return [
    `### ${title}`,
    '',
    ...notes.flatMap((note) => [note, '']),
    `| ${head.join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    ...(goals.length === 0 ? [] : ['']),
    ...goals.map((goal) => `- ${goal.met ? 'met' : '**not met**'}: ${goal.description} (${goal.detail})`),
  ].join('\n');
}
