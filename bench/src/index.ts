import { GROUPS, selectGroups } from './groups';
import { measureGroup } from './lib/measure';
import { formatHeader, formatTable } from './lib/report';
import { SETTINGS } from './lib/settings';
import { serveWorker, workerTask } from './lib/worker';
import { POSTGRES_PARTS, type PostgresPart, runPostgresBench } from './postgres/postgres-bench';
import { runMemoryStoreBench } from './store/memory-store';

const argv = process.argv.slice(2);
const task = workerTask(argv);

if (task !== undefined) {
  serveWorker(GROUPS, task, SETTINGS);
} else {
  const filters = argv.filter((arg) => arg !== '--');
  const groups = selectGroups(filters);
  const runStore =
    filters.length === 0 || filters.some((filter) => filter === 'store' || filter === 'store/memory');
  const postgresParts = new Set<PostgresPart>(
    POSTGRES_PARTS.filter(
      (part) => filters.length === 0 || filters.some((f) => f === 'postgres' || f === `postgres/${part}`),
    ),
  );
  if (groups.length === 0 && !runStore && postgresParts.size === 0) {
    console.error(
      `No benchmark group matches ${filters.join(', ')}. Groups: ${GROUPS.map((g) => g.id).join(', ')}`,
    );
    process.exit(1);
  }
  console.log(formatHeader(SETTINGS));
  for (const group of groups) {
    const results = await measureGroup(group, SETTINGS, (message) => process.stderr.write(`${message}\n`));
    console.log(`\n${formatTable(group, results, SETTINGS)}`);
  }
  if (runStore)
    console.log(`\n${await runMemoryStoreBench((message) => process.stderr.write(`${message}\n`))}`);
  if (postgresParts.size > 0) {
    const log = (message: string): void => void process.stderr.write(`${message}\n`);
    console.log(`\n${await runPostgresBench(log, postgresParts)}`);
  }
}
