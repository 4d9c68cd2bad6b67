import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). Another process could take it
 * before the caller binds it; the ports come from the ephemeral range, so in practice that does not happen.
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) reject(new Error('could not read the port the OS assigned'));
        else resolve(port);
      });
    });
  });
}

/**
 * `count` distinct free ports (see {@link freePort}).
 *
 * @example
 * ```ts
 * const [clientPort, busPort] = await freePorts(2);
 * ```
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
