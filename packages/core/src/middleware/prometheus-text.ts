/**
 * Helpers for the Prometheus text exposition format 0.0.4.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** Metric and label names Prometheus accepts. */
export const METRIC_NAME: RegExp = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

/** Renders label pairs as `a="x",b="y"`, escaping each value. */
export function labelText(labels: Readonly<Record<string, string>>): string {
  let text = '';
  for (const [name, value] of Object.entries(labels)) {
    text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(value)}"`;
  }
  return text;
}

/** Writes the `# HELP` and `# TYPE` lines of a metric family. */
export function header(
  out: string[],
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
}

/** Writes one sample line; `labels` is already rendered by {@link labelText}. */
export function sample(out: string[], name: string, labels: string, value: number): void {
  out.push(labels === '' ? `${name} ${formatValue(value)}` : `${name}{${labels}} ${formatValue(value)}`);
}

/** Formats a sample value as Prometheus parses it (`+Inf`, `-Inf`, `NaN` for the special values). */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}
