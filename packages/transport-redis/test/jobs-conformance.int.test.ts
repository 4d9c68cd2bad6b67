import { describeJobQueueConformance } from '@relaybus/core/testing';
import { redisJobBackend } from '@relaybus/transport-redis';
import { IOREDIS_5, IOREDIS_6 } from './support/client';
import { forEachClient } from './support/for-each-client';
import { useRunClient } from './support/run-client';

forEachClient(
  (flavour) => {
    // One client for every backend: a backend never blocks it (idle workers wait on duplicates), so backends on one
    // client still act as separate processes.
    const { redis, runPrefix } = useRunClient(flavour);

    describeJobQueueConformance(
      'redis',
      ({ namespace }) => redisJobBackend({ redis, prefix: `${runPrefix}:${namespace}`, blockMs: 500 }),
      { sharedBackend: true, timeoutScale: 2 },
    );
  },
  [IOREDIS_5, IOREDIS_6],
);
