import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rootDir, workspaceProjects } from './workspace.mjs';

function tsc(project) {
  return new Promise((resolve) => {
    const child = spawn('tsc', ['--noEmit', '-p', project], { cwd: rootDir, stdio: 'inherit' });
    child.on('close', (code) => resolve({ project, ok: code === 0 }));
  });
}

const projects = [join(rootDir, 'tsconfig.json')];
for (const project of workspaceProjects()) {
  if (!project.hasSource) {
    console.log(`typecheck: skipping ${project.path} (no TypeScript in src/ yet)`);
    continue;
  }
  projects.push(join(project.dir, 'tsconfig.json'));
  const buildConfig = join(project.dir, 'tsconfig.build.json');
  if (existsSync(buildConfig)) projects.push(buildConfig);
}

const results = await Promise.all(projects.map(tsc));
const failed = results.filter((result) => !result.ok);
for (const result of failed) console.error(`typecheck failed: ${result.project}`);
process.exitCode = failed.length > 0 ? 1 : 0;
