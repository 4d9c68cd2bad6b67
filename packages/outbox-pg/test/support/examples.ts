import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testConnection } from './database';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Whether the README shows `examples/<file>` word for word under its snippet marker.
 *
 * @example
 * ```ts
 * expect(readmeHasSnippet('quick-start.ts')).toBe(true);
 * ```
 */
export function readmeHasSnippet(file: string): boolean {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8');
  return readme.includes(`<!-- snippet: examples/${file} -->\n\`\`\`ts\n${example}\`\`\`\n`);
}

/**
 * Runs `examples/<file>` as a user would (Node with tsx, from the package directory) against the test database,
 * in `schema`; returns its standard output.
 *
 * @example
 * ```ts
 * const stdout = await runExample('quick-start.ts', schema);
 * ```
 */
export async function runExample(file: string, schema: string): Promise<string> {
  const { host, port, user, database } = testConnection();
  const { stdout } = await run(
    process.execPath,
    ['--conditions=@relaybus/source', '--import', 'tsx', `examples/${file}`],
    {
      cwd: packageDir,
      timeout: 30_000,
      env: {
        ...process.env,
        DATABASE_URL: `postgres://${user}@${host}:${port}/${database}`,
        RELAYBUS_SCHEMA: schema,
      },
    },
  );
  return stdout;
}
