export { natsTransport } from './nats-transport';
export type { NatsRetentionOptions, NatsTransportOptions } from './options';
