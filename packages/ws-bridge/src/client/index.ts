/**
 * The browser client of the relaybus bridge: `@relaybus/ws-bridge/client`. No runtime dependency; browsers and
 * Node 20+.
 *
 * @packageDocumentation
 */
export { createBridgeClient } from './bridge-client';
export type { BridgeErrorCode, BridgeErrorOptions } from './errors';
export { BridgeError } from './errors';
export type { BridgeClientOptions, ReconnectOptions, WebSocketLike } from './options';
export type {
  BridgeClient,
  BridgeClientEvents,
  BridgeSelector,
  BridgeSubscription,
  ClientState,
  DeliveryInfo,
  NarrowedEvent,
  PatternEvent,
  SelectedEvent,
} from './types';
