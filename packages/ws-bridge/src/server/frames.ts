import type { ServerMessage } from '../protocol';
import type { SourceEvent } from './event-source';

/**
 * Frames a payload as one unmasked WebSocket text frame (RFC 6455 section 5.2), header and payload in one buffer:
 * built once per event and written as is to every connection's socket, where `ws.send` would frame it again for
 * each one.
 *
 * @example
 * ```ts
 * socket.write(frameText(Buffer.from('{"type":"pong","id":"r1"}')));
 * ```
 */
export function frameText(payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, header);
  return frame;
}

/**
 * Encodes a server message as a complete WebSocket text frame.
 *
 * @example
 * ```ts
 * socket.send(encodeMessage({ type: 'pong', id: 'r1' }));
 * ```
 */
export function encodeMessage(message: ServerMessage): Buffer {
  return frameText(Buffer.from(JSON.stringify(message)));
}

/**
 * Encodes an event as a complete WebSocket frame, once, to be written as is to every matching connection; a replayed
 * one names its subscription.
 *
 * @example
 * ```ts
 * const frame = encodeEvent(event); // {"type":"event","position":"…","event":{…}}
 * const replayed = encodeEvent(event, 's1'); // {"type":"event","sub":"s1",…}
 * ```
 */
export function encodeEvent(event: SourceEvent, sub?: string): Buffer {
  const replay = sub === undefined ? '' : `,"sub":${JSON.stringify(sub)}`;
  const position = event.position === undefined ? '' : `,"position":${JSON.stringify(event.position)}`;
  return frameText(Buffer.from(`{"type":"event"${replay}${position},"event":${JSON.stringify(event)}}`));
}

/**
 * Encodes an event for Server-Sent Events: its position as the `id` (what `Last-Event-ID` resumes from) and the
 * envelope as `data`.
 *
 * @example
 * ```ts
 * response.write(encodeSseEvent(event)); // id: …\ndata: {…}\n\n
 * ```
 */
export function encodeSseEvent(event: SourceEvent): Buffer {
  const id = event.position === undefined ? '' : `id: ${event.position}\n`;
  return Buffer.from(`${id}data: ${JSON.stringify(event)}\n\n`);
}

/**
 * Encodes a non-event server message for Server-Sent Events, as an event named after its `type`; a heartbeat with a
 * position also moves `Last-Event-ID`, and a goodbye sets the reconnect delay (`retry`).
 *
 * @example
 * ```ts
 * response.write(encodeSseMessage({ type: 'heartbeat', position: '42' }));
 * ```
 */
export function encodeSseMessage(message: ServerMessage): Buffer {
  let head = '';
  if (message.type === 'heartbeat' && message.position !== undefined) head = `id: ${message.position}\n`;
  if (message.type === 'goodbye') head = `retry: ${message.retryAfterMs}\n`;
  return Buffer.from(`${head}event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`);
}
