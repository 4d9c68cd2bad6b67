import { TransportError } from '@relaybus/core';
import type { ConsumerContext } from './consumer-context';
import type { Dispatcher } from './dispatcher';
import { destroyGroups } from './group-setup';
import type { LaneSet } from './lane-set';
import type { Reader } from './reader';
import type { RedisSettler } from './settler';

const DROP = { kind: 'drop' } as const;

/** The parts of a subscription that closing has to wind down, in order. */
export interface ClosingParts {
  readonly context: ConsumerContext;
  readonly dispatcher: Dispatcher;
  readonly settler: RedisSettler;
  readonly reader: Reader;
  readonly lanes: LaneSet;
}

/**
 * Closes a subscription's parts: stops reading, waits up to `timeoutMs` for handlers in flight (aborting and leaving
 * the rest for redelivery), persists settles, gives back what was queued, and leaves the group on every topic
 * (deleting a group-less subscriber's own group). Heartbeats go on while handlers finish, since the leases must
 * hold until then. What needs Redis is bounded, so that closing cannot hang while Redis is down; whatever could not
 * leave is stopped anyway, so no heartbeat outlives the subscription renewing leases nobody reads.
 */
export async function closeParts(parts: ClosingParts, timeoutMs: number): Promise<void> {
  const { context, dispatcher, reader, lanes } = parts;
  const deadline = Date.now() + timeoutMs;
  dispatcher.closing = true;
  const readerStopped = reader.stop();
  if (!(await dispatcher.whenIdle(timeoutMs))) {
    const left = [...dispatcher.inflight];
    const reason = new TransportError(
      'redis',
      `a subscription closed with ${left.length} unsettled deliveries after waiting ${timeoutMs} ms; they are left for redelivery`,
    );
    for (const delivery of left) {
      delivery.takeBack(reason);
      dispatcher.finish(delivery, DROP);
    }
  }
  const cleanupMs = Math.max(1_000, deadline - Date.now());
  if (!(await settlesWithin(releaseAll(parts, readerStopped), cleanupMs))) {
    context.logger?.warn(
      `redis transport: Redis did not answer within ${cleanupMs} ms while closing; unacked deliveries stay pending and leases expire on their own`,
    );
  }
  lanes.stop();
}

async function releaseAll(parts: ClosingParts, readerStopped: Promise<void>): Promise<void> {
  const { context, dispatcher, settler, lanes } = parts;
  await readerStopped;
  dispatcher.stop();
  await lanes.settled();
  settler.giveBackItems(dispatcher.drop(() => true));
  await settler.flush();
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      try {
        await lane.leave();
        if (context.namedGroup === undefined) {
          await destroyGroups(context, lane.topic, lane.partitionCount);
        } else {
          await context.registry.announce({
            kind: 'rebalance',
            topic: lane.topic,
            group: context.namedGroup,
          });
        }
      } catch (error) {
        context.logger?.warn('redis transport: releasing leases on close failed; they expire on their own', {
          error,
        });
      }
    }),
  );
}

function settlesWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(
    () => true,
    () => true,
  );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}
