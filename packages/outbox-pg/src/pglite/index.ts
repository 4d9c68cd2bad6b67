export type { PgliteLike, PglitePoolOptions } from './pglite-pool';
export { pglitePool } from './pglite-pool';
