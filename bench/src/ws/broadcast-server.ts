import type { WsEventData } from './ws-event';

/** A contender's server, listening on a port of its own on 127.0.0.1, in the server process. */
export interface BroadcastServer {
  readonly port: number;
  /**
   * Sends one event to every connected client. A returned promise (relaybus's `publish`) is not awaited by the
   * runs, but its rejection fails the run.
   */
  broadcast(data: WsEventData): Promise<unknown> | undefined;
}
