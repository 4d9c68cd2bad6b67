/**
 * `@relaybus/ws-bridge`: streams relaybus events to browsers over WebSocket and Server-Sent Events, resumable from
 * the event store. The browser client is `@relaybus/ws-bridge/client`.
 *
 * @packageDocumentation
 */
export {
  BEARER_PREFIX,
  CLOSE,
  type ClientMessage,
  type ErrorCode,
  type ErrorMessage,
  type EventMessage,
  type GoodbyeMessage,
  type HeartbeatMessage,
  type HelloMessage,
  type LagMessage,
  type NotResumedReason,
  type PingMessage,
  type PongMessage,
  type RefreshedMessage,
  type RefreshMessage,
  type Selector,
  type ServerMessage,
  SUBPROTOCOL,
  type SubscribedMessage,
  type SubscribeMessage,
  type UnsubscribedMessage,
  type UnsubscribeMessage,
  type WelcomeMessage,
} from './protocol';
export { type BridgeStats, createWsBridge, type WsBridge } from './server/bridge';
export type {
  Authorizer,
  AuthRequest,
  BackpressureOptions,
  BridgeBus,
  BridgeLimits,
  Principal,
  WsBridgeOptions,
} from './server/options';
