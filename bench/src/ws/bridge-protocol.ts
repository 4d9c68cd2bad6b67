import type { Envelope } from '@relaybus/core';
import type { WsEventData } from './ws-event';

/**
 * The ws-bridge protocol, version 1 (`packages/ws-bridge/src/protocol.ts`), as far as a subscriber of the benchmark
 * needs it. Written out rather than imported so that the other contenders run while the package has no code.
 */
export const SUBPROTOCOL = 'relaybus.v1';

/** The URL path of the bridge's WebSocket endpoint: its default, passed explicitly by the server process. */
export const RELAYBUS_PATH = '/relaybus';

/** The frame a client sends after `welcome`: one subscription to every event type. */
export const SUBSCRIBE_ALL = JSON.stringify({ type: 'subscribe', id: 'r1', sub: 's1', pattern: '#' });

/** The server frames a benchmark client acts on (others, such as `heartbeat`, are ignored). */
export type BridgeFrame =
  | { readonly type: 'event'; readonly event: Envelope<string, WsEventData> }
  | { readonly type: 'welcome' | 'subscribed' | 'heartbeat' | 'pong' }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'goodbye'; readonly reason: string };
