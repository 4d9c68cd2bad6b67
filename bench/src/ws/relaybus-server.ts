import { createEventBus, memoryTransport, silentLogger } from '@relaybus/core';
import { createWsBridge } from '@relaybus/ws-bridge';
import { RELAYBUS_PATH } from './bridge-protocol';
import type { BroadcastServer } from './broadcast-server';
import { WS_EVENT_SOURCE, WsBenchEvent } from './ws-event';

/**
 * Room for the memory part's 10,100 connections, and handshakes as fast as the load generators open them: the
 * bridge's defaults (10,000 connections, 500 handshakes/s) protect a server from a reconnect storm, which is not
 * what is measured here, and would make connecting 10,000 clients take 20 s.
 */
const LIMITS = { maxConnections: 20_000, handshakesPerSecond: 100_000 };

/**
 * relaybus: a bus on the memory transport (payloads validated by zod on publish) and a ws-bridge on a free port
 * of 127.0.0.1 that lets every client in, at its defaults otherwise; a broadcast is one `bus.publish`.
 */
export async function relaybusServer(): Promise<BroadcastServer> {
  const bus = createEventBus({
    events: [WsBenchEvent],
    transport: memoryTransport(),
    source: WS_EVENT_SOURCE,
    logger: silentLogger,
  });
  const bridge = createWsBridge({
    bus,
    port: 0,
    path: RELAYBUS_PATH,
    authenticate: () => ({ id: 'bench' }),
    limits: LIMITS,
  });
  await bridge.ready;
  return {
    port: bridge.address().port,
    broadcast: (data) => bus.publish(WsBenchEvent, data),
  };
}
