import type { RedisClient } from '../connection';

interface Batch {
  readonly streams: Map<string, string[]>;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects acks made in the same tick into one `XACK` per stream, so a burst of handlers settling costs one
 * round trip. Each ack's promise settles when its batch was written.
 */
export class AckBatcher {
  readonly #redis: RedisClient;
  readonly #group: string;
  #batch: Batch | undefined;

  readonly #onBatch: (written: Promise<void>) => Promise<void>;

  /** `onBatch` gets each batch's write and returns the promise handed to every ack of the batch. */
  constructor(redis: RedisClient, group: string, onBatch: (written: Promise<void>) => Promise<void>) {
    this.#redis = redis;
    this.#group = group;
    this.#onBatch = onBatch;
  }

  ack(stream: string, entryId: string): Promise<void> {
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#newBatch();
      this.#batch = batch;
      queueMicrotask(() => this.#flush());
    }
    const ids = batch.streams.get(stream);
    if (ids === undefined) batch.streams.set(stream, [entryId]);
    else ids.push(entryId);
    return batch.promise;
  }

  #newBatch(): Batch {
    let resolve: () => void = () => {};
    let reject: (error: unknown) => void = () => {};
    const promise = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    return { streams: new Map(), promise: this.#onBatch(promise), resolve, reject };
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined) return;
    const writes = [...batch.streams].map(([stream, ids]) => this.#redis.xack(stream, this.#group, ...ids));
    Promise.all(writes).then(() => batch.resolve(), batch.reject);
  }
}
