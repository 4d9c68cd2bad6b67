import { describeTransportConformance } from '@relaybus/core/testing';
import { redisTransport } from '@relaybus/transport-redis';
import { EVERY_REPLY_SHAPE } from './support/client';
import { forEachClient } from './support/for-each-client';
import { useRunClient } from './support/run-client';

// Every reply shape the transport must read: RESP2 (ioredis 5, and 6 with protocol 2), and RESP3 with maps as
// pairs (ioredis 6.1's default), as one flat list (6.0's default) or as plain objects (replyMapping 'resp3').
forEachClient((flavour) => {
  // One client for every instance: the transport never blocks it (each instance reads on its own duplicates), so
  // instances on one client still act as separate processes.
  const { redis, runPrefix } = useRunClient(flavour);

  describeTransportConformance(
    'redis',
    ({ namespace }) =>
      redisTransport({
        redis,
        prefix: `${runPrefix}:${namespace}`,
        blockMs: 500,
        leaseTtlMs: 1_500,
        delayPollIntervalMs: 20,
        topicRefreshIntervalMs: 200,
      }),
    { sharedBackend: true, timeoutScale: 2 },
  );
}, EVERY_REPLY_SHAPE);
