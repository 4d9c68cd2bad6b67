import type { SubscriptionRunner } from './subscription-runner';
import type { PendingSubscription, Subscription, SubscriptionState } from './types';

/** The subscription a user holds: a view of its runner. Not thenable, so it can be what `await` resolves to. */
class SubscriptionView implements Subscription {
  constructor(
    protected readonly runner: SubscriptionRunner,
    readonly close: (options?: { timeoutMs?: number }) => Promise<void>,
  ) {}

  get group(): string | undefined {
    return this.runner.group;
  }

  get state(): SubscriptionState {
    return this.runner.state;
  }

  get lastError(): Error | undefined {
    return this.runner.lastError;
  }

  get ready(): Promise<void> {
    return this.runner.ready;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** What `subscribe` returns: the same view, awaitable until the transport has registered it. */
class PendingSubscriptionView extends SubscriptionView implements PendingSubscription {
  readonly #settled: Subscription;

  constructor(runner: SubscriptionRunner, close: (options?: { timeoutMs?: number }) => Promise<void>) {
    super(runner, close);
    this.#settled = new SubscriptionView(runner, close);
  }

  // biome-ignore lint/suspicious/noThenProperty: awaitable on purpose; `await bus.subscribe()` waits for registration.
  then<TResult1 = Subscription, TResult2 = never>(
    onfulfilled?: ((value: Subscription) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.runner.ready.then(() => this.#settled).then(onfulfilled, onrejected);
  }
}

/** Wraps a runner in the handle `subscribe` returns. */
export function subscriptionHandle(
  runner: SubscriptionRunner,
  close: (options?: { timeoutMs?: number }) => Promise<void>,
): PendingSubscription {
  return new PendingSubscriptionView(runner, close);
}
