import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy. */
export interface ProxyLink {
  /** Local port of the proxy's connection to the server: the port the server sees (`CLIENT LIST` addr). */
  readonly upstreamPort: number | undefined;
  /** From now on, bytes from the server are dropped on this link (requests still reach it): replies get lost. */
  freeze(): void;
  /** Destroys both sides of this link, as a network failure would. */
  cut(): void;
}

/** A loopback TCP proxy in front of one server, able to lose replies and cut connections on demand. */
export interface TcpProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The links open now. */
  links(): ProxyLink[];
  /** Links opened so far, closed ones included. */
  opened(): number;
  /** Destroys every open link. */
  cutAll(): void;
  /**
   * While on, every byte in either direction is dropped, on open links and new ones: a silent network partition
   * (requests never reach the server, nothing comes back, connections stay open).
   */
  partition(on: boolean): void;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free loopback port that forwards to `127.0.0.1:<targetPort>`, for tests of what a
 * client does when a reply is lost or a connection drops. Clients that reconnect get fresh, healthy links.
 *
 * @example
 * ```ts
 * const proxy = await startTcpProxy(server.port);
 * const client = new Redis(proxy.url);
 * const [link] = proxy.links();
 * link.freeze(); // commands still run, their replies vanish
 * link.cut(); // the client reconnects through a new link
 * ```
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<{ link: ProxyLink; sockets: Socket[] }>();
  let opened = 0;
  let partitioned = false;
  const server: Server = createServer((client) => {
    opened += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    let frozen = false;
    const entry = {
      sockets: [client, upstream],
      link: {
        get upstreamPort() {
          return upstream.localPort;
        },
        freeze: () => {
          frozen = true;
        },
        cut: () => drop(),
      },
    };
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(entry);
    };
    open.add(entry);
    client.on('data', (chunk) => {
      if (!partitioned) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen && !partitioned) client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  const cutAll = (): void => {
    for (const entry of [...open]) entry.link.cut();
  };
  return {
    port: address.port,
    url: `redis://127.0.0.1:${address.port}`,
    links: () => [...open].map((entry) => entry.link),
    opened: () => opened,
    cutAll,
    partition(on) {
      partitioned = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
