import type { TransportMessage } from '@relaybus/core';
import type { LeaseClock } from './lease-clock';

/**
 * Where a partition stands for one subscription: `takeover` (just acquired; the previous owner's pending
 * entries are being claimed), `reading`, `draining` (over its share: no new reads, in-flight work finishes,
 * then the lease is released) or `gone` (released or lost).
 */
export type PartitionStatus = 'takeover' | 'reading' | 'draining' | 'gone';

/** A message read from a partition, waiting for or in the hands of a handler. */
export interface Item {
  readonly partition: PartitionState;
  readonly entryId: string;
  readonly message: TransportMessage;
  readonly bodyText: string;
  /** Attempt of this stream entry's first delivery (`a` field; 1 unless the entry is a retry). */
  readonly baseAttempt: number;
  readonly attempt: number;
  /** Epoch ms of the first attempt; 0 when this is the first, stamped when handed out. */
  readonly firstAttemptAt: number;
  /** Retry nonce, when the entry is a retry some owner may be waiting for. */
  readonly nonce: string | undefined;
}

/** A key that has a message in flight: later messages of the key wait here, in order. */
export interface KeySlot {
  readonly parked: Item[];
  /** Set while the key waits for a delayed retry with this nonce. */
  hold: string | undefined;
}

/** One partition stream owned (or being drained) by one subscription. */
export class PartitionState {
  readonly topic: string;
  readonly index: number;
  readonly stream: string;
  /** The lease proof of the topic's lane: nothing of this partition is handed out or read without it. */
  readonly lease: LeaseClock;
  /** The fencing token of this member's lease on the partition, as the heartbeat that acquired it returned. */
  readonly token: string;
  status: PartitionStatus = 'takeover';
  /** Handed to a handler and not settled. */
  active = 0;
  /** Read and not yet handed out (queued or parked). */
  queued = 0;
  /** Parked behind a key that waits for a delayed retry: not counted against prefetch. */
  heldParked = 0;
  /** Entry ids queued or in flight here: anything else pending for this consumer was lost on the way. */
  readonly entries: Set<string> = new Set();
  /** Keys with a message in flight, queued or held. */
  readonly keys: Map<string, KeySlot> = new Map();
  /** Items that were due to be handed out while the lease could not be proven, in order. */
  paused: Item[] = [];

  constructor(topic: string, index: number, stream: string, lease: LeaseClock, token: string) {
    this.topic = topic;
    this.index = index;
    this.stream = stream;
    this.lease = lease;
    this.token = token;
  }

  /** Owned and in use: its messages are handed out. */
  get live(): boolean {
    return this.status === 'reading' || this.status === 'takeover';
  }

  /** Nothing of it is queued or in flight. */
  get idle(): boolean {
    return this.active === 0 && this.queued === 0;
  }
}
