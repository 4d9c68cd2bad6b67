import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const projectDirs = ['packages', 'examples'].flatMap((group) => {
  const groupUrl = new URL(`./${group}/`, import.meta.url);
  if (!existsSync(groupUrl)) return [];
  return readdirSync(groupUrl, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${group}/${entry.name}`);
});

const sourceConditions = ['@relaybus/source'];

/**
 * `pnpm test:unit` sets RELAYBUS_TEST_SCOPE=unit: only the tests that need no server (no PostgreSQL, Redis or
 * browser), i.e. every test file but `*.int.test.ts`.
 */
const unitOnly = process.env['RELAYBUS_TEST_SCOPE'] === 'unit';

export default defineConfig({
  resolve: { conditions: [...sourceConditions, 'module', 'node', 'development|production'] },
  ssr: { resolve: { conditions: [...sourceConditions, 'node', 'development|production'] } },
  test: {
    include: ['**/*.test.ts', '**/*.int.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', ...(unitOnly ? ['**/*.int.test.ts'] : [])],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: {
      enabled: true,
      include: ['**/*.test-d.ts'],
      tsconfig: 'tsconfig.json',
    },
    projects: projectDirs.map((dir) => ({
      extends: true,
      test: {
        name: dir.slice(dir.indexOf('/') + 1),
        root: fileURLToPath(new URL(`./${dir}/`, import.meta.url)),
      },
    })),
  },
});
