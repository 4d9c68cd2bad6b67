import type { BenchGoal } from '../lib/contender';
import type { ContenderResult } from '../lib/measure';
import { medianRate } from '../lib/report';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `name` reaches at least `factor` times the events/s of `reference`. */
export function throughputGoal(
  name: string,
  reference: string,
  factor: number,
  description: string,
): BenchGoal {
  return {
    description,
    check(results) {
      const rate = medianRate(find(results, name));
      const referenceRate = medianRate(find(results, reference));
      const ratio = rate / referenceRate;
      return {
        met: ratio >= factor,
        detail: `${integer.format(rate)} vs ${integer.format(referenceRate)} events/s = ${ratio.toFixed(2)}x, needs ${factor}x`,
      };
    },
  };
}

/** `name`'s median p99 is at most `limitUs`. */
export function p99Goal(name: string, limitUs: number, description: string): BenchGoal {
  return {
    description,
    check(results) {
      const p99Us = find(results, name)?.latency?.p99Us ?? Number.NaN;
      return {
        met: p99Us <= limitUs,
        detail: `p99 ${integer.format(p99Us)} µs, limit ${integer.format(limitUs)} µs`,
      };
    },
  };
}

function find(results: ReadonlyArray<ContenderResult>, name: string): ContenderResult | undefined {
  return results.find((result) => result.name === name);
}
