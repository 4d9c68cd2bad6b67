#!/usr/bin/env node
// Keeps the browser client small: bundles the built client as an application would (minified, ESM, for the
// browser), gzips it and fails above the budget. Run `pnpm build` first; it measures dist/, what users get.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 4096;
const entry = fileURLToPath(new URL('../dist/client.js', import.meta.url));

if (!existsSync(entry)) {
  console.error(
    `client size: ${entry} is missing; build the package first (pnpm --filter @relaybus/ws-bridge build)`,
  );
  process.exit(1);
}

// esbuild is not a dependency of this package: it is the one tsup bundles with, found through tsup.
const requireFromTsup = createRequire(createRequire(import.meta.url).resolve('tsup'));
const esbuild = requireFromTsup('esbuild');

const result = await esbuild.build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  write: false,
  logLevel: 'warning',
});
const minified = result.outputFiles[0].contents;
const gzipped = gzipSync(minified, { level: 9 }).length;
const verdict = gzipped <= BUDGET_BYTES ? 'within' : 'over';
console.log(
  `client size: ${gzipped} bytes min+gzip (${minified.length} min), ${verdict} the budget of ${BUDGET_BYTES} bytes`,
);
if (gzipped > BUDGET_BYTES) process.exitCode = 1;
