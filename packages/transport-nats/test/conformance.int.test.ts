import { silentLogger } from '@relaybus/core';
import { describeTransportConformance } from '@relaybus/core/testing';
import { natsTransport } from '@relaybus/transport-nats';
import { NATS_URL, useCleanup } from './support/nats';

const cleanup = useCleanup();

// Every instance opens its own connection, as separate processes would; streams of the run are deleted afterwards.
describeTransportConformance(
  'nats',
  ({ namespace }) =>
    natsTransport({
      servers: NATS_URL,
      prefix: cleanup(namespace),
      ackWaitMs: 1_000,
      logger: silentLogger,
    }),
  { sharedBackend: true, timeoutScale: 2 },
);
