import { type ProcessExit, startReadyTsProcess } from '../processes/ts-process';
import {
  CONSUMER_CONFIG_ENV,
  type ConsumerCommand,
  type ConsumerConfig,
  type ConsumerReport,
} from './consumer-protocol';

/** A transport consumer in its own process, as the parent sees it through its reports. */
export interface ConsumerProcess {
  readonly pid: number;
  /** Ids of every delivery it reported, redeliveries included, in order. */
  received(): string[];
  /** Ids whose `ack()` resolved in the consumer. */
  acked(): Set<string>;
  /** Ids it received in hold mode and never settled. */
  held(): Set<string>;
  /**
   * Switches to hold mode and resolves once every ack that started before has resolved and been reported, so
   * `acked()` is final from then on.
   */
  hold(timeoutMs?: number): Promise<void>;
  /** Resolves once it holds at least `count` unsettled deliveries. */
  waitForHeld(count: number, timeoutMs: number): Promise<void>;
  /** Resolves once it reported at least `count` acks. */
  waitForAcked(count: number, timeoutMs: number): Promise<void>;
  /** Sends a signal (SIGKILL by default) and resolves once the process exited. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** Closes the subscription and the transport, and waits for the process to exit. */
  close(timeoutMs?: number): Promise<ProcessExit>;
  /** Errors the consumer reported. */
  errors(): string[];
  /** The process's stdout and stderr. */
  output(): string;
}

/**
 * Starts `script`, a consumer process whose body is {@link serveConsumer}, and resolves once its subscription is
 * registered. It acks every delivery, reporting each one and each resolved ack over IPC, until `hold()`; then it
 * holds whatever it receives.
 *
 * @throws `Error` with the process's output when it does not report ready within 20 s (it is SIGKILLed then).
 * @example
 * ```ts
 * const victim = await startConsumerProcess(besideModule(import.meta.url, 'support/consumer-main.ts'), {
 *   transport: { servers: NATS_URL, prefix },
 *   topics: ['t'],
 *   group: 'g',
 *   concurrency: 4,
 *   visibilityTimeoutMs: 1_000,
 * });
 * await victim.hold();
 * await victim.waitForHeld(4, 5_000);
 * await victim.kill('SIGKILL');
 * ```
 */
export async function startConsumerProcess<TTransport>(
  script: string,
  config: ConsumerConfig<TTransport>,
): Promise<ConsumerProcess> {
  const child = await startReadyTsProcess<ConsumerCommand, ConsumerReport>(
    script,
    (report) => report.type === 'ready',
    { env: { [CONSUMER_CONFIG_ENV]: JSON.stringify(config) } },
  );
  const of = <T extends ConsumerReport['type']>(type: T) =>
    child.messages.filter((report): report is Extract<ConsumerReport, { type: T }> => report.type === type);
  const held = (): Set<string> => new Set(of('received').flatMap((r) => (r.held ? [r.id] : [])));
  const count = async (what: string, current: () => number, target: number, timeoutMs: number) => {
    await child.waitForMessage(() => current() >= target, timeoutMs, `${target} ${what} (got ${current()})`);
  };
  return {
    pid: child.pid,
    received: () => of('received').map((report) => report.id),
    acked: () => new Set(of('acked').map((report) => report.id)),
    held,
    async hold(timeoutMs = 5_000) {
      child.send({ type: 'hold' });
      await child.waitForMessage((report) => report.type === 'holding', timeoutMs, 'holding');
    },
    waitForHeld: (target, timeoutMs) => count('held deliveries', () => held().size, target, timeoutMs),
    waitForAcked: (target, timeoutMs) => count('acks', () => of('acked').length, target, timeoutMs),
    kill: (signal) => child.kill(signal),
    async close(timeoutMs = 10_000) {
      child.send({ type: 'close' });
      const timer = setTimeout(() => void child.kill('SIGKILL'), timeoutMs);
      const exit = await child.exited;
      clearTimeout(timer);
      return exit;
    },
    errors: () => of('error').map((report) => report.message),
    output: () => child.output(),
  };
}
