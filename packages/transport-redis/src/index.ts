export { IncompatibleClientError, RedisUnavailableError } from './errors';
export type { RedisJobBackendOptions } from './jobs/options';
export { redisJobBackend } from './jobs/redis-job-backend';
export type { RedisRetentionOptions, RedisTransportOptions } from './options';
export { redisTransport } from './redis-transport';
