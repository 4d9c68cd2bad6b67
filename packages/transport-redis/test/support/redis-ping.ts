import { connect } from 'node:net';

/**
 * Sends one inline command to a Redis on 127.0.0.1 and resolves with its raw reply (first chunk, trimmed), or
 * `undefined` when nothing answers within `timeoutMs`. Used to wait for servers to be ready (a server still
 * loading its AOF answers `-LOADING`), without a client library that would keep reconnecting.
 */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value: string | undefined): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // Bulk replies ($len\r\n...\r\n) may come in several chunks; wait for the whole payload.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk === null || reply.length >= bulk[0].length + Number(bulk[1]) + 2) done(reply.trim());
    });
  });
}

/** Polls until `check` returns true for the reply to `command`, failing after `timeoutMs` with `what`. */
export async function waitForReply(
  port: number,
  command: string,
  check: (reply: string) => boolean,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    last = await rawCommand(port, command);
    if (last !== undefined && check(last)) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what()} (last reply to ${command}: ${last ?? 'none'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
