import { afterEach } from 'vitest';
import { type ClientFlavour, IOREDIS_5 } from './client';
import { useRedisServer } from './redis-server';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { useTransports } from './transports';

/**
 * A private Redis server with a proxy in front that can lose replies, cut connections or partition the network
 * (`startProxy()`); the transports `open` makes (on clients of `flavour`) are closed before the proxy.
 *
 * @example
 * ```ts
 * const { server, open, startProxy } = useProxiedRedis(flavour);
 * it('...', async () => { const proxy = await startProxy(); open({ url: proxy.url }, prefix); });
 * ```
 */
export function useProxiedRedis(flavour: ClientFlavour = IOREDIS_5) {
  const server = useRedisServer();
  let proxy: TcpProxy | undefined;
  // Registered before useTransports, so it runs after the transports behind the proxy are closed.
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  const open = useTransports(flavour);
  return {
    server,
    open,
    async startProxy(): Promise<TcpProxy> {
      proxy = await startTcpProxy(server().port);
      return proxy;
    },
  };
}
