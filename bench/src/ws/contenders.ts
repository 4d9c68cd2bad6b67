/** How a contender's clients connect and receive: the protocol its server speaks. */
export type ClientKind = 'ws' | 'socket.io' | 'relaybus';

/** A contender of the WebSocket benchmark: a server (in its own process) and the clients that speak to it. */
export interface WsContender {
  /** Its name in tables and goals, and what the server process is told to run. */
  readonly name: string;
  readonly client: ClientKind;
  /** What a broadcast does, for the notes under the tables. */
  readonly describe: string;
}

export const RAW_NAIVE = 'raw ws, naive';
export const RAW_PREFRAMED = 'raw ws, pre-framed';
export const SOCKET_IO = 'Socket.IO';
export const RELAYBUS = 'relaybus ws-bridge';

/** Every contender, in table order. */
export const WS_CONTENDERS: ReadonlyArray<WsContender> = [
  {
    name: RAW_NAIVE,
    client: 'ws',
    describe: '`JSON.stringify` of the frame per client, then `socket.send` to each',
  },
  {
    name: RAW_PREFRAMED,
    client: 'ws',
    describe: 'the frame stringified and framed once (`Sender.frame`), the same bytes written to each socket',
  },
  {
    name: SOCKET_IO,
    client: 'socket.io',
    describe: "`io.emit('event', envelope)` (Socket.IO encodes and frames a broadcast once)",
  },
  {
    name: RELAYBUS,
    client: 'relaybus',
    describe:
      '`bus.publish` on the memory transport (zod validation on publish), forwarded by `createWsBridge` to every ' +
      'client subscribed to `#`',
  },
];
