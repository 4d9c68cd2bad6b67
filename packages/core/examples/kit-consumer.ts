// The consuming side of a transport built on @relaybus/core/transport-kit. The "broker" here is an array with
// ack / requeue / reject, standing in for a channel of AMQP or a JetStream consumer: everything else (settling once,
// the signal, per-key order, concurrency, the visibility timeout, closing) comes from the kit.
import type { DeadLetterInput, Delivery, TransportMessage } from '@relaybus/core';
import {
  DeliveryState,
  invokeHandler,
  KeyedDispatcher,
  KitDelivery,
  SubscriptionHandle,
} from '@relaybus/core/transport-kit';

/** A broker message: what the broker hands out and wants settled. */
interface BrokerMessage {
  readonly tag: number;
  readonly message: TransportMessage;
  readonly redelivered: number;
}

const broker = {
  acked: [] as number[],
  rejected: [] as number[],
  requeue(raw: BrokerMessage): BrokerMessage {
    return { ...raw, redelivered: raw.redelivered + 1 };
  },
};

class BrokerDelivery extends KitDelivery {
  constructor(
    readonly raw: BrokerMessage,
    private readonly done: (delivery: BrokerDelivery, retry?: BrokerDelivery) => void,
  ) {
    super(raw.message, raw.redelivered + 1, 0, DeliveryState.QUEUED);
  }

  protected settleAck(): void {
    broker.acked.push(this.raw.tag);
    this.done(this);
  }

  protected settleNack(delayMs: number): void {
    // A broker without delays would hold the message for `delayMs` first; here it comes back at once.
    void delayMs;
    this.done(this, new BrokerDelivery(broker.requeue(this.raw), this.done));
  }

  protected settleDeadLetter(input: DeadLetterInput): void {
    broker.rejected.push(this.raw.tag);
    console.log(`dead letter ${this.message.id}: ${input.reason}`);
    this.done(this);
  }
}

function consume(handler: (delivery: Delivery) => Promise<void>, signal: AbortSignal) {
  const dispatcher: KeyedDispatcher<BrokerDelivery> = new KeyedDispatcher<BrokerDelivery>(
    {
      handle: (delivery) =>
        invokeHandler(handler, delivery, () => {
          if (delivery.inFlight) void delivery.nack();
        }),
      expired: (delivery) => {
        if (delivery.takeBack(new Error('visibility timeout'))) {
          dispatcher.finish(delivery, new BrokerDelivery(broker.requeue(delivery.raw), done));
        }
      },
    },
    { concurrency: 4, visibilityTimeoutMs: 30_000 },
  );
  const done = (delivery: BrokerDelivery, retry?: BrokerDelivery): void => dispatcher.finish(delivery, retry);
  const subscription = new SubscriptionHandle({
    signal,
    close: async (timeoutMs) => {
      dispatcher.close(); // a real broker would requeue what was returned here
      await dispatcher.whenIdle(timeoutMs);
    },
  });
  const receive = (raw: BrokerMessage): void => dispatcher.push(new BrokerDelivery(raw, done));
  return { subscription, receive };
}

const seen: string[] = [];
const controller = new AbortController();
const { subscription, receive } = consume(async (delivery) => {
  seen.push(`${delivery.message.id}#${delivery.attempt}`);
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (delivery.message.id === 'b' && delivery.attempt === 1) throw new Error('flaky');
  await delivery.ack();
}, controller.signal);

const keyed = (tag: number, id: string): BrokerMessage => ({
  tag,
  message: { id, topic: 'task.updated', key: 'task-1', body: { id } },
  redelivered: 0,
});
receive(keyed(1, 'a'));
receive(keyed(2, 'b'));
receive(keyed(3, 'c'));
await new Promise((resolve) => setTimeout(resolve, 100));
controller.abort();
await subscription.close();
console.log(seen.join(' '));
console.log(`acked ${broker.acked.join(',')}`);
