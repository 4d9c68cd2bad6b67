import { spawnSync } from 'node:child_process';
import { workspaceProjects } from './workspace.mjs';

const checks = [
  ['publint', ['--strict']],
  ['attw', ['--pack', '.', '--profile', 'node16']],
];

let failed = 0;
for (const project of workspaceProjects()) {
  if (!project.isPublic) continue;
  if (!project.hasEntry) {
    console.log(`check:packages: skipping ${project.name} (no src/index.ts yet)`);
    continue;
  }
  for (const [command, args] of checks) {
    console.log(`\n> ${project.name}: ${command} ${args.join(' ')}`);
    const result = spawnSync(command, args, { cwd: project.dir, stdio: 'inherit' });
    if (result.status !== 0) {
      failed += 1;
      console.error(`check:packages: ${command} failed for ${project.name}`);
    }
  }
}
process.exitCode = failed > 0 ? 1 : 0;
