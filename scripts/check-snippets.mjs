// README code blocks that come from files: a block right after `<!-- snippet: path/to/file.ts -->` must equal
// that file (path relative to the README), so every snippet users copy is typechecked or run by CI.
// `node scripts/check-snippets.mjs` checks; `--write` copies the files into the READMEs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { rootDir, workspaceProjects } from './workspace.mjs';

const MARKER = /^<!-- snippet: (\S+) -->$/;
const write = process.argv.includes('--write');

const readmes = [
  join(rootDir, 'README.md'),
  ...workspaceProjects().map((project) => join(project.dir, 'README.md')),
];
let problems = 0;
let snippets = 0;

for (const readme of readmes.filter((path) => existsSync(path))) {
  const lines = readFileSync(readme, 'utf8').split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const match = MARKER.exec(lines[i]);
    if (match === null) continue;
    snippets++;
    const where = `${relative(rootDir, readme)}:${i + 1}`;
    const source = join(dirname(readme), match[1]);
    const open = lines[i + 1] ?? '';
    const close = lines.findIndex((line, index) => index > i + 1 && line.startsWith('```'));
    if (!open.startsWith('```') || close < 0) {
      problems++;
      console.error(`${where}: the snippet marker must be followed by a fenced code block`);
      continue;
    }
    if (!existsSync(source)) {
      problems++;
      console.error(`${where}: ${match[1]} does not exist`);
      continue;
    }
    const wanted = readFileSync(source, 'utf8').replace(/\n$/, '').split('\n');
    const actual = lines.slice(i + 2, close);
    if (actual.join('\n') === wanted.join('\n')) continue;
    if (write) {
      lines.splice(i + 2, close - i - 2, ...wanted);
      changed = true;
      continue;
    }
    problems++;
    const line = actual.findIndex((text, index) => text !== wanted[index]);
    console.error(
      `${where}: the block differs from ${match[1]} (first at block line ${line + 1}); run \`node scripts/check-snippets.mjs --write\``,
    );
  }
  if (changed) writeFileSync(readme, lines.join('\n'));
}

if (problems > 0) {
  console.error(`check-snippets: ${problems} of ${snippets} README snippets are out of date or broken`);
  process.exitCode = 1;
} else {
  console.log(`check-snippets: ${snippets} README snippets match their files`);
}
