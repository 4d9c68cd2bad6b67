import { type Goal, ratio } from '../jobs/report';

/** `value` is at least `factor` times `reference` (higher is better); `unit` formats both. */
export function atLeast(
  description: string,
  value: number,
  reference: number,
  factor: number,
  unit: (value: number) => string,
): Goal {
  return {
    description,
    met: value >= factor * reference,
    detail: `${unit(value)} vs ${unit(reference)} = ${ratio(value, reference)}, needs ≥ ${factor}x`,
  };
}

/** `value` is at most `factor` times `reference` (lower is better); `unit` formats both. */
export function atMost(
  description: string,
  value: number,
  reference: number,
  factor: number,
  unit: (value: number) => string,
): Goal {
  return {
    description,
    met: value <= factor * reference,
    detail: `${unit(value)} vs ${unit(reference)} = ${ratio(value, reference)}, needs ≤ ${factor}x`,
  };
}

/** The note under a table whose goals are about relaybus when relaybus did not run. */
export const GOALS_SKIPPED = 'Goals not checked: the relaybus ws-bridge contender did not run.';
