/**
 * Where a circuit breaker stands: `'closed'` lets calls through, `'open'` rejects them, `'half-open'` lets a few
 * trial calls through to see whether the dependency has recovered.
 *
 * @example
 * ```ts
 * if (breaker.state('mailer') === 'open') alert('mail provider down');
 * ```
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** The validated settings every circuit of one breaker shares. */
export interface CircuitSettings {
  readonly failureThreshold: number;
  readonly windowMs: number | undefined;
  readonly resetTimeoutMs: number;
  readonly halfOpenMaxCalls: number;
}

/** How a call was let in: as a normal call, or as one of the half-open trials. */
export type Admission = 'call' | 'trial';

/** What changed after a call settled, for logging. */
export type Transition = 'opened' | 'closed' | undefined;

/** One circuit: the failure count and state machine of one subscription (or subscription and event type). */
export class Circuit {
  private current: CircuitState = 'closed';
  /** Times of the consecutive failures so far, at most `failureThreshold` of them. */
  private readonly failures: number[] = [];
  private openedAt = 0;
  private trials = 0;

  constructor(private readonly settings: CircuitSettings) {}

  /** The state at `now` (an open circuit whose reset timeout has passed is half-open). */
  state(now: number): CircuitState {
    if (this.current === 'open' && now - this.openedAt >= this.settings.resetTimeoutMs) {
      this.current = 'half-open';
      this.trials = 0;
    }
    return this.current;
  }

  /**
   * Lets a call in, or returns how many milliseconds to wait before trying again: until the reset timeout when
   * open, `busyRetryMs` when half-open and every trial slot is taken.
   */
  admit(now: number, busyRetryMs: number): Admission | number {
    const state = this.state(now);
    if (state === 'closed') return 'call';
    if (state === 'open') return Math.max(0, this.openedAt + this.settings.resetTimeoutMs - now);
    if (this.trials >= this.settings.halfOpenMaxCalls)
      return Math.min(busyRetryMs, this.settings.resetTimeoutMs);
    this.trials++;
    return 'trial';
  }

  /** Records a success: a trial closes the circuit, a normal call ends the run of consecutive failures. */
  succeed(admission: Admission): Transition {
    if (admission === 'trial') {
      if (this.current !== 'half-open') return undefined;
      this.current = 'closed';
      this.failures.length = 0;
      this.trials = 0;
      return 'closed';
    }
    if (this.current === 'closed') this.failures.length = 0;
    return undefined;
  }

  /** Records a failure: a failed trial reopens the circuit, enough failures of normal calls open it. */
  fail(admission: Admission, now: number): Transition {
    if (admission === 'trial') {
      if (this.current !== 'half-open') return undefined;
      return this.open(now);
    }
    if (this.current !== 'closed') return undefined;
    const { windowMs, failureThreshold } = this.settings;
    this.failures.push(now);
    if (windowMs !== undefined) {
      while ((this.failures[0] ?? now) <= now - windowMs) this.failures.shift();
    }
    if (this.failures.length > failureThreshold) this.failures.shift();
    return this.failures.length >= failureThreshold ? this.open(now) : undefined;
  }

  /** Frees a trial slot after an outcome that says nothing about the dependency. */
  ignore(admission: Admission): void {
    if (admission === 'trial' && this.current === 'half-open') this.trials--;
  }

  private open(now: number): Transition {
    this.current = 'open';
    this.openedAt = now;
    this.trials = 0;
    this.failures.length = 0;
    return 'opened';
  }
}
