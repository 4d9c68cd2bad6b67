import { existsSync } from 'node:fs';
import { besideModule, startTsProcess } from '@relaybus/test-support';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisCluster } from './redis-cluster';
import { startRedisServer } from './redis-server';

describe('test harness', () => {
  it('runs a private redis-server whose AOF survives SIGKILL and restart, and removes its dir on stop', async () => {
    const server = await startRedisServer({ appendOnly: true, appendFsync: 'always' });
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      expect(server.port).not.toBe(6379);
      await client.connect();
      await client.set('harness:key', 'kept');
      await server.kill('SIGKILL');
      expect(server.running()).toBe(false);
      await server.restart();
      expect(await client.get('harness:key')).toBe('kept');
    } finally {
      client.disconnect();
      await server.stop();
    }
    expect(server.running()).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('runs a 3-master Redis Cluster that serves keys from every slot range', async () => {
    const cluster = await startRedisCluster();
    const client = new Cluster([...cluster.nodes]);
    try {
      expect(cluster.nodes).toHaveLength(3);
      const keys = Array.from({ length: 30 }, (_, index) => `harness:${index}`);
      await Promise.all(keys.map((key) => client.set(key, key)));
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys);
      const masters = client.nodes('master');
      expect(masters).toHaveLength(3);
      const sizes = await Promise.all(masters.map((node) => node.dbsize()));
      expect(sizes.every((size) => size > 0)).toBe(true);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  }, 40_000);

  it('runs a TypeScript file in a separate process over IPC and can SIGKILL it', async () => {
    const child = startTsProcess<{ ping: number }, { ready?: string; echo?: { ping: number } }>(
      besideModule(import.meta.url, 'echo-main.ts'),
    );
    const ready = await child.waitForMessage((m) => m.ready !== undefined, 15_000, 'ready');
    expect(ready.ready).toMatch(/^[0-9a-f-]{36}$/);
    child.send({ ping: 7 });
    const echo = await child.waitForMessage((m) => m.echo !== undefined, 5_000, 'echo');
    expect(echo.echo).toEqual({ ping: 7 });
    expect(await child.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
