import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criticalPath,
  type Dependency,
  DependencyCycleError,
  findCycle,
  ScheduleInputError,
} from './schedule';

/** A random DAG: an edge only from a lower to a higher index, so it can never close a loop. */
const dag = fc
  .integer({ min: 1, max: 8 })
  .chain((count) =>
    fc.record({
      durations: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: count, maxLength: count }),
      edges:
        count < 2
          ? fc.constant<Array<[number, number]>>([])
          : fc.uniqueArray(
              fc
                .integer({ min: 0, max: count - 2 })
                .chain((a) => fc.tuple(fc.constant(a), fc.integer({ min: a + 1, max: count - 1 }))),
              { selector: ([a, b]) => `${a}-${b}`, maxLength: 16 },
            ),
    }),
  )
  .map(({ durations, edges }) => ({
    tasks: durations.map((durationDays, index) => ({ id: `t${index}`, durationDays })),
    dependencies: edges.map(([a, b]): Dependency => ({ predecessor: `t${a}`, successor: `t${b}` })),
  }));

/** Brute force: the heaviest path through every task, by enumerating every path. */
function bruteForce(
  tasks: ReadonlyArray<{ id: string; durationDays: number }>,
  dependencies: ReadonlyArray<Dependency>,
) {
  const duration = new Map(tasks.map((task) => [task.id, task.durationDays]));
  const next = (id: string) => dependencies.filter((d) => d.predecessor === id).map((d) => d.successor);
  const hasPredecessor = new Set(dependencies.map((d) => d.successor));
  const paths: string[][] = [];
  const walk = (path: string[]): void => {
    const successors = next(path.at(-1) as string);
    if (successors.length === 0) paths.push(path);
    for (const successor of successors) walk([...path, successor]);
  };
  for (const task of tasks) if (!hasPredecessor.has(task.id)) walk([task.id]);
  const weight = (path: string[]) => path.reduce((sum, id) => sum + (duration.get(id) as number), 0);
  const longest = Math.max(0, ...paths.map(weight));
  const through = new Map(
    tasks.map((task) => [task.id, Math.max(...paths.filter((p) => p.includes(task.id)).map(weight))]),
  );
  return { longest, through, weight };
}

describe('criticalPath', () => {
  it('finds the project length, each task’s slack and a longest chain, as a brute force over every path does', () => {
    fc.assert(
      fc.property(dag, ({ tasks, dependencies }) => {
        const result = criticalPath(tasks, dependencies);
        const { longest, through, weight } = bruteForce(tasks, dependencies);
        expect(result.durationDays).toBe(longest);
        for (const task of tasks) {
          const timing = result.timings.get(task.id);
          // Slack: how much shorter than the project the longest path through the task is.
          expect(timing?.slack).toBe(longest - (through.get(task.id) as number));
          expect(timing?.critical).toBe(timing?.slack === 0);
          expect(timing?.earliestFinish).toBe((timing?.earliestStart as number) + task.durationDays);
          expect(timing?.latestFinish).toBe((timing?.latestStart as number) + task.durationDays);
        }
        // The chain is a real path of dependencies, and as long as the project.
        const chain = [...result.criticalPath];
        expect(weight(chain)).toBe(longest);
        for (let at = 1; at < chain.length; at++) {
          expect(dependencies).toContainEqual({ predecessor: chain[at - 1], successor: chain[at] });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names the cycle when the dependencies form one', () => {
    const tasks = ['a', 'b', 'c', 'd'].map((id) => ({ id, durationDays: 1 }));
    const loop = [
      { predecessor: 'a', successor: 'b' },
      { predecessor: 'b', successor: 'c' },
      { predecessor: 'c', successor: 'd' },
      { predecessor: 'd', successor: 'b' },
    ];
    const error = (() => {
      try {
        criticalPath(tasks, loop);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect((error as DependencyCycleError).cycle).toEqual(['b', 'c', 'd', 'b']);
    expect((error as Error).message).toBe('the dependencies form a cycle: b → c → d → b');
  });

  it('refuses unknown tasks, duplicates and bad durations, naming them', () => {
    expect(() =>
      criticalPath([{ id: 'a', durationDays: 1 }], [{ predecessor: 'a', successor: 'x' }]),
    ).toThrow(new ScheduleInputError('a dependency a → x names "x", which is not a task'));
    expect(() =>
      criticalPath(
        [
          { id: 'a', durationDays: 1 },
          { id: 'a', durationDays: 2 },
        ],
        [],
      ),
    ).toThrow(/listed twice/);
    expect(() => criticalPath([{ id: 'a', durationDays: -1 }], [])).toThrow(/duration -1/);
  });

  it('handles 10,000 tasks in a layered graph well under a second', () => {
    const tasks = Array.from({ length: 10_000 }, (_, n) => ({ id: `t${n}`, durationDays: (n * 7) % 5 }));
    const dependencies: Dependency[] = [];
    for (let n = 100; n < 10_000; n++) {
      for (const back of [100, 101, 137])
        if (n - back >= 0) dependencies.push({ predecessor: `t${n - back}`, successor: `t${n}` });
    }
    const started = performance.now();
    const result = criticalPath(tasks, dependencies);
    const elapsed = performance.now() - started;
    expect(result.timings.size).toBe(10_000);
    expect(result.criticalPath.length).toBeGreaterThan(50);
    // A correctness check with a generous bound; the timing itself is in `pnpm bench -- task-manager`.
    expect(elapsed).toBeLessThan(1_000);
  });
});

describe('findCycle', () => {
  it('returns the loop a new dependency would close, and nothing for one that keeps the graph acyclic', () => {
    const existing = [
      { predecessor: 'a', successor: 'b' },
      { predecessor: 'b', successor: 'c' },
    ];
    expect(findCycle(existing, { predecessor: 'c', successor: 'a' })).toEqual(['c', 'a', 'b', 'c']);
    expect(findCycle(existing, { predecessor: 'a', successor: 'c' })).toBeUndefined();
    expect(findCycle(existing, { predecessor: 'x', successor: 'x' })).toEqual(['x', 'x']);
  });

  it('agrees with criticalPath on random graphs: a cycle is found exactly when the graph with the edge has one', () => {
    fc.assert(
      fc.property(
        dag,
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        ({ tasks, dependencies }, a, b) => {
          const from = tasks[a % tasks.length]?.id as string;
          const to = tasks[b % tasks.length]?.id as string;
          const candidate = { predecessor: from, successor: to };
          const cycle = findCycle(dependencies, candidate);
          let cyclic = false;
          try {
            criticalPath(tasks, [...dependencies, candidate]);
          } catch (error) {
            cyclic = error instanceof DependencyCycleError;
          }
          expect(cycle !== undefined).toBe(cyclic);
          if (cycle !== undefined) {
            expect(cycle[0]).toBe(from);
            expect(cycle.at(-1)).toBe(from);
            const all = [...dependencies, candidate];
            for (let at = 1; at < cycle.length; at++) {
              expect(all).toContainEqual({ predecessor: cycle[at - 1], successor: cycle[at] });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
