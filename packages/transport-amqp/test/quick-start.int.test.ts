import { besideModule, runExample } from '@relaybus/test-support';
import { connect } from 'amqplib';
import { expect, it } from 'vitest';
import { AMQP_URL, uniqueExchange, useCleanup } from './support/broker';

const EXAMPLE = besideModule(import.meta.url, '../examples/quick-start.ts');
const { track } = useCleanup();

// That the README shows this file as it is, `pnpm lint` checks (scripts/check-snippets.mjs).
it('the README quick start runs as written: it handles the event it publishes, then exits', async () => {
  const exchange = track(uniqueExchange('quick-start'));
  const { exit, output } = await runExample(EXAMPLE, { AMQP_URL, RELAYBUS_EXCHANGE: exchange });
  expect(exit, output).toEqual({ code: 0, signal: null });
  expect(output).toContain('subscription active');
  expect(output).toContain('mailing about task t-1');
  // It ran on the exchange it was given, and acked what it handled: the group's queues are empty.
  const model = await connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    for (const kind of ['ordered', 'shared']) {
      const queue = `${exchange}/mailer/task.created/${kind}`;
      expect(await channel.checkQueue(queue)).toMatchObject({ messageCount: 0 });
      await channel.deleteQueue(queue);
    }
    await channel.close();
  } finally {
    await model.close();
  }
}, 40_000);
