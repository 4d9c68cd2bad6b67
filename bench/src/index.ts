import { GROUPS, SUITES, selectGroups, selectParts } from './groups';
import { measureGroup } from './lib/measure';
import { formatHeader, formatTable } from './lib/report';
import { SETTINGS } from './lib/settings';
import { serveWorker, workerTask } from './lib/worker';

const argv = process.argv.slice(2);
const task = workerTask(argv);

if (task !== undefined) {
  serveWorker(GROUPS, task, SETTINGS);
} else {
  const filters = argv.filter((arg) => arg !== '--');
  const groups = selectGroups(filters);
  const suites = SUITES.map((suite) => ({ suite, parts: selectParts(suite, filters) })).filter(
    ({ parts }) => parts.size > 0,
  );
  if (groups.length === 0 && suites.length === 0) {
    const known = [
      ...GROUPS.map((g) => g.id),
      ...SUITES.flatMap((suite) => [suite.id, ...suite.parts.map((part) => `${suite.id}/${part}`)]),
    ];
    console.error(`No benchmark group matches ${filters.join(', ')}. Groups: ${known.join(', ')}`);
    process.exit(1);
  }
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const print = (section: string): void => console.log(`\n${section}`);
  console.log(formatHeader(SETTINGS));
  for (const group of groups) print(formatTable(group, await measureGroup(group, SETTINGS, log), SETTINGS));
  for (const { suite, parts } of suites) await suite.run(parts, log, print);
}
