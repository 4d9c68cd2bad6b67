export { amqpTransport } from './amqp-transport';
export type { AmqpTransportOptions } from './options';
