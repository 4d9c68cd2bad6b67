import { describeTransportConformance } from '@relaybus/core/testing';
import { amqpTransport } from '@relaybus/transport-amqp';
import { AMQP_URL, TEST_GROUP_EXPIRES_MS, useCleanup } from './support/broker';

const { track } = useCleanup();

describeTransportConformance(
  'amqp',
  ({ namespace }) =>
    amqpTransport({
      url: AMQP_URL,
      exchange: track(`rbt.${namespace}`),
      groupExpiresMs: TEST_GROUP_EXPIRES_MS,
    }),
  {
    sharedBackend: true,
    timeoutScale: 2,
    skip: {
      'start-from':
        'RabbitMQ cannot replay: a queue keeps only what was published after it was declared, so a new group starts at the latest message whatever startFrom says (test/start-from.int.test.ts checks the two tests of this scenario that hold)',
    },
  },
);
