import { readFileSync } from 'node:fs';
import { besideModule, runExample as runTsExample } from '@relaybus/test-support';
import { testConnection } from './database';

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
 * @throws `Error` with its output when it fails or is still running after 30 s.
 * @example
 * ```ts
 * const stdout = await runExample('quick-start.ts', schema);
 * ```
 */
export async function runExample(file: string, schema: string): Promise<string> {
  const { host, port, user, database } = testConnection();
  const { exit, output, stdout } = await runTsExample(
    besideModule(import.meta.url, `../../examples/${file}`),
    {
      DATABASE_URL: `postgres://${user}@${host}:${port}/${database}`,
      RELAYBUS_SCHEMA: schema,
    },
  );
  if (exit === 'still running' || exit.code !== 0) {
    const how =
      exit === 'still running' ? 'was still running after 30 s' : `exited (${exit.signal ?? exit.code})`;
    throw new Error(`examples/${file} ${how}; its output:\n${output}`);
  }
  return stdout;
}
