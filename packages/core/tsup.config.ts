import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    'transport-kit': 'src/transport-kit/index.ts',
  },
  dts: true,
  sourcemap: true,
  target: 'node20',
  tsconfig: 'tsconfig.build.json',
  external: ['@opentelemetry/api'],
};

export default defineConfig([
  { ...shared, format: ['esm'], clean: true, external: [...(shared.external ?? []), 'vitest'] },
  {
    ...shared,
    format: ['cjs'],
    noExternal: ['vitest'],
    // vitest refuses require(): the CJS build registers its suites with the runner's globals instead.
    esbuildOptions(options) {
      options.alias = { vitest: './src/testing/runner-globals.ts' };
    },
  },
]);
