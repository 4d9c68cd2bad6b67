export { IncompatibleClientError, RedisUnavailableError } from './errors';
export type { RedisRetentionOptions, RedisTransportOptions } from './options';
export { redisTransport } from './redis-transport';
