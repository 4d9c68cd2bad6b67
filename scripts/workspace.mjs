import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const rootDir = fileURLToPath(new URL('..', import.meta.url));

function hasTypeScript(dir) {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true, recursive: true }).some(
    (entry) => entry.isFile() && entry.name.endsWith('.ts'),
  );
}

/**
 * Workspace projects that have TypeScript sources yet, so tools that fail on empty inputs
 * (tsc, publint, attw, typedoc) skip packages that are only scaffolded.
 */
export function workspaceProjects() {
  const dirs = ['packages', 'examples'].flatMap((group) => {
    const groupDir = join(rootDir, group);
    if (!existsSync(groupDir)) return [];
    return readdirSync(groupDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(groupDir, entry.name));
  });
  dirs.push(join(rootDir, 'bench'));
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return {
        dir,
        path: relative(rootDir, dir),
        name: manifest.name,
        isPublic: manifest.private !== true,
        hasSource: hasTypeScript(join(dir, 'src')),
        hasEntry: existsSync(join(dir, 'src', 'index.ts')),
      };
    });
}
