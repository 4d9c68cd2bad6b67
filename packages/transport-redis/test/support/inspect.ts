import type { Cluster, Redis } from 'ioredis';

/**
 * What Redis holds for one group on one topic's partition streams, for failure messages: per stream its length,
 * the group's pending count and which consumers hold them, and the group's last delivered entry. Reads the
 * transport's key layout (`<prefix>:{<topic>}:s:<n>`) directly, as a test may to prove what was stored.
 */
export async function describeStreams(
  redis: Redis | Cluster,
  prefix: string,
  topic: string,
  group: string,
  partitions: number,
): Promise<string> {
  const lines: string[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const stream = `${prefix}:{${topic}}:s:${partition}`;
    try {
      const length = await redis.xlen(stream);
      const pending = (await redis.xpending(stream, group)) as [
        number,
        string | null,
        string | null,
        unknown,
      ];
      const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
      const info = groups.map((row) => Object.fromEntries(pairs(row))).find((row) => row['name'] === group);
      lines.push(
        `${stream}: length ${length}, pending ${pending[0]} (${pending[1] ?? '-'}..${pending[2] ?? '-'}) ` +
          `by ${JSON.stringify(pending[3])}, last delivered ${String(info?.['last-delivered-id'] ?? 'no group')}`,
      );
    } catch (error) {
      lines.push(`${stream}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return lines.join('\n');
}

function pairs(row: ReadonlyArray<unknown>): Array<[string, unknown]> {
  const result: Array<[string, unknown]> = [];
  for (let index = 0; index + 1 < row.length; index += 2) result.push([String(row[index]), row[index + 1]]);
  return result;
}
