import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceProjects } from './workspace.mjs';

const tools = [
  ['publint', ['--strict']],
  ['attw', ['--pack', '.', '--profile', 'node16']],
];

let failed = 0;
function check(project, what, command, args) {
  console.log(`\n> ${project.name}: ${what}`);
  const result = spawnSync(command, args, { cwd: project.dir, stdio: 'inherit' });
  if (result.status !== 0) {
    failed += 1;
    console.error(`check:packages: ${what} failed for ${project.name}`);
  }
}

/** Every subpath of the exports map, loaded through each condition in a fresh process. */
function loadEveryCondition(project) {
  const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8'));
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== 'object' || target === null) continue;
    const specifier = subpath === '.' ? project.name : `${project.name}${subpath.slice(1)}`;
    if ('import' in target) {
      check(project, `import('${specifier}')`, process.execPath, [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(specifier)});`,
      ]);
    }
    if ('require' in target) {
      check(project, `require('${specifier}')`, process.execPath, [
        '-e',
        `require(${JSON.stringify(specifier)});`,
      ]);
    }
  }
}

/** The packed tarball carries the license and the readme. */
function checkTarball(project) {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: project.dir, encoding: 'utf8' });
  const files = new Set(JSON.parse(result.stdout)[0].files.map((file) => file.path));
  for (const required of ['LICENSE', 'README.md', 'package.json']) {
    if (!files.has(required)) {
      failed += 1;
      console.error(`check:packages: the ${project.name} tarball has no ${required}`);
    }
  }
}

/** Tests that need the built package (node:test files under test/cjs). */
function runBuiltTests(project) {
  const dir = join(project.dir, 'test', 'cjs');
  let files = [];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.node-test.cjs'));
  } catch {
    return;
  }
  for (const file of files)
    check(project, `node --test test/cjs/${file}`, process.execPath, ['--test', join(dir, file)]);
}

/** A package's own check of its build, such as the browser client's size budget (its `size` script). */
function runSizeBudget(project) {
  const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8'));
  const script = manifest.scripts?.size;
  if (typeof script !== 'string') return;
  check(project, `size (${script})`, 'sh', ['-c', script]);
}

for (const project of workspaceProjects()) {
  if (!project.isPublic) continue;
  if (!project.hasEntry) {
    console.log(`check:packages: skipping ${project.name} (no src/index.ts yet)`);
    continue;
  }
  for (const [command, args] of tools) check(project, `${command} ${args.join(' ')}`, command, args);
  loadEveryCondition(project);
  checkTarball(project);
  runBuiltTests(project);
  runSizeBudget(project);
}
process.exitCode = failed > 0 ? 1 : 0;
