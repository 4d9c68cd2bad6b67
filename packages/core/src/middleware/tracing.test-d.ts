import * as api from '@opentelemetry/api';
import { describe, expectTypeOf, it } from 'vitest';
import type { Middleware } from './middleware';
import { type OtelApiLike, tracing } from './tracing';

describe('tracing() types', () => {
  it('accepts the real @opentelemetry/api module', () => {
    expectTypeOf(api).toExtend<OtelApiLike>();
    expectTypeOf(tracing({ api })).toEqualTypeOf<Middleware>();
  });

  it('requires the api', () => {
    // @ts-expect-error api is required: core cannot import @opentelemetry/api itself
    tracing({});
  });
});
