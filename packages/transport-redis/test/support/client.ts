import { Cluster, Redis } from 'ioredis';

/** A node address, as ioredis `Cluster` takes it. */
export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/** Where a test's clients connect: a standalone URL or a cluster's nodes. */
export type Connection = { readonly url: string } | { readonly cluster: ReadonlyArray<ClusterNode> };

/**
 * A new client for `connection`. Connection errors are expected in tests that stop servers, and ioredis prints
 * every error it cannot hand to a listener, so this one listens (the transport reports what matters).
 */
export function newClient(connection: Connection): Redis | Cluster {
  const client =
    'url' in connection
      ? new Redis(connection.url)
      : new Cluster(connection.cluster.map((node) => ({ host: node.host, port: node.port })));
  client.on('error', () => {});
  return client;
}
