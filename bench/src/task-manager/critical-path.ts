import { criticalPath, type Dependency } from '../../../examples/task-manager/src/domain/schedule';

/** A project of `count` tasks: each after `count / 100` and a few later ones depend on it (layers of ~100 tasks). */
function project(count: number) {
  const tasks = Array.from({ length: count }, (_, n) => ({ id: `task-${n}`, durationDays: (n * 7) % 5 }));
  const dependencies: Dependency[] = [];
  for (let n = 100; n < count; n++) {
    for (const back of [100, 101, 137]) {
      if (n - back >= 0) dependencies.push({ predecessor: `task-${n - back}`, successor: `task-${n}` });
    }
  }
  return { tasks, dependencies };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * The task-manager's critical path method (forward and backward pass over a topological order) on projects of 1,000
 * to 100,000 tasks with three dependencies each: the median time of 7 runs after a warm-up.
 */
export async function runCriticalPathBench(log: (message: string) => void): Promise<string> {
  const rows: string[] = [];
  for (const count of [1_000, 10_000, 100_000]) {
    const { tasks, dependencies } = project(count);
    criticalPath(tasks, dependencies);
    const times: number[] = [];
    let length = 0;
    for (let run = 0; run < 7; run++) {
      const started = performance.now();
      const result = criticalPath(tasks, dependencies);
      times.push(performance.now() - started);
      length = result.criticalPath.length;
    }
    log(`task-manager/critical-path: ${count} tasks done`);
    const ms = median(times);
    rows.push(
      `| ${count.toLocaleString('en-US')} | ${dependencies.length.toLocaleString('en-US')} | ${length} | ${ms.toFixed(2)} | ${Math.round((count / ms) * 1_000).toLocaleString('en-US')} |`,
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  return [
    '### Critical path method (task-manager example)',
    '',
    'Forward and backward pass over a topological order (Kahn), earliest and latest start and finish, slack and one',
    'critical chain, on projects whose tasks each depend on three earlier ones; median of 7 runs after a warm-up.',
    '',
    '| tasks | dependencies | critical chain | ms | tasks/s |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `- ${goalLine(rows)}`,
  ].join('\n');
}

function goalLine(rows: string[]): string {
  const tenThousand = rows[1]?.split('|')[4]?.trim();
  const ms = Number(tenThousand);
  return ms < 1_000
    ? `met: 10,000 tasks well under a second (${tenThousand} ms)`
    : `**not met**: 10,000 tasks under a second (${tenThousand} ms)`;
}
