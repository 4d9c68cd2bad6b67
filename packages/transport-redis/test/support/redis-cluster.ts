import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, removeDir, trackDir } from '@relaybus/test-support';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { ClusterNode } from './client';
import { waitForReply } from './redis-ping';
import { RedisProcess } from './redis-process';

const run = promisify(execFile);
const REDIS_CLI = process.env['REDIS_CLI_BIN'] ?? '/usr/bin/redis-cli';

/** How to run a private Redis Cluster. */
export interface RedisClusterOptions {
  /**
   * Master nodes (no replicas); the 16384 slots are split between them.
   * @defaultValue 3
   */
  readonly masters?: number;
  /**
   * Longest wait for the nodes to start and for `cluster_state:ok` on every node, in milliseconds.
   * @defaultValue 30000
   */
  readonly startTimeoutMs?: number;
}

/** A private Redis Cluster on loopback. */
export interface RedisCluster {
  /** The master nodes; give them to `new Cluster(nodes)`. */
  readonly nodes: ReadonlyArray<ClusterNode>;
  /** The logs of every node, for failure messages. */
  log(): string;
  /** Stops every node and removes their dirs. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `masters` redis-server nodes with cluster mode on (each on a free port with a free cluster-bus port,
 * RDB and AOF off, in its own temp dir), joins them with `redis-cli --cluster create`, and resolves once every
 * node reports `cluster_state:ok` with all slots assigned.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const client = new Cluster([...cluster.nodes]);
 * ```
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const root = mkdtempSync(join(tmpdir(), 'relaybus-cluster-'));
  trackDir(root);
  // Cluster bus ports are chosen explicitly: the default (port + 10000) may not be free or even valid.
  const ports = await freePorts(masters * 2);
  const nodes = Array.from({ length: masters }, (_, index) => {
    const port = ports[index] as number;
    const dir = join(root, String(port));
    mkdirSync(dir);
    return new RedisProcess(
      port,
      [
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-port',
        String(ports[masters + index]),
        '--cluster-node-timeout',
        '5000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      timeoutMs,
    );
  });
  const log = (): string => nodes.map((node) => `--- node ${node.port}\n${node.log()}`).join('\n');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((node) => node.stop()));
    removeDir(root);
  };
  try {
    await Promise.all(nodes.map((node) => node.start()));
    await createCluster(nodes, timeoutMs);
    for (const node of nodes) {
      await waitForReply(
        node.port,
        'CLUSTER INFO',
        (reply) => reply.includes('cluster_state:ok') && reply.includes('cluster_slots_ok:16384'),
        timeoutMs,
        () => `cluster_state:ok on node ${node.port}`,
      );
    }
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const logs = log();
    await stop();
    throw new Error(`Redis Cluster did not start: ${detail}\n${logs}`);
  }
  return { nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), log, stop };
}

async function createCluster(nodes: ReadonlyArray<RedisProcess>, timeoutMs: number): Promise<void> {
  const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
  try {
    await run(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: timeoutMs,
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message?: string };
    throw new Error(
      `redis-cli --cluster create failed: ${output.message ?? ''}\n${output.stdout ?? ''}${output.stderr ?? ''}`,
    );
  }
}

/**
 * Starts a private Redis Cluster before the tests of the current file (or `describe`) and stops it after them.
 *
 * @example
 * ```ts
 * const cluster = useRedisCluster();
 * it('works', async () => { const client = new Cluster([...cluster().nodes]); ... });
 * ```
 */
export function useRedisCluster(options: RedisClusterOptions = {}): () => RedisCluster {
  let cluster: RedisCluster | undefined;
  beforeAll(
    async () => {
      cluster = await startRedisCluster(options);
    },
    (options.startTimeoutMs ?? 30_000) + 10_000,
  );
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (cluster === undefined)
      throw new Error('the private Redis Cluster is not started: use it inside a test');
    return cluster;
  };
}

/**
 * Two names out of `name(0)`, `name(1)`, ... whose hash tags (`{<name>}`) are served by different masters of the
 * cluster `redis` is connected to, so that a test really spans nodes.
 *
 * @example
 * ```ts
 * const [first, second] = await namesOnTwoMasters(redis, (n) => `task.${n}`);
 * ```
 */
export async function namesOnTwoMasters(
  redis: Cluster,
  name: (n: number) => string,
): Promise<[string, string]> {
  const masterOf = async (candidate: string): Promise<string> => {
    const slot = Number(await redis.cluster('KEYSLOT', `{${candidate}}`));
    const master = redis.slots[slot]?.[0];
    if (master === undefined) throw new Error(`no master known for slot ${slot}`);
    return master;
  };
  const first = name(0);
  const home = await masterOf(first);
  for (let n = 1; n < 100; n++) {
    if ((await masterOf(name(n))) !== home) return [first, name(n)];
  }
  throw new Error(`every candidate name (${first}, ...) hashed to one master`);
}
