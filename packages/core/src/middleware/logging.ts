import { InvalidOptionError } from '../errors';
import type { Logger } from '../logger';
import type { Middleware } from './middleware';

/**
 * A logger method to write with, or `'off'` to write nothing.
 *
 * @example
 * ```ts
 * const level: LoggingLevel = 'info';
 * ```
 */
export type LoggingLevel = keyof Logger | 'off';

/**
 * Options for {@link logging}.
 *
 * @example
 * ```ts
 * bus.use(logging({ logger: appLogger, handledLevel: 'info', failedLevel: 'error' }));
 * ```
 */
export interface LoggingOptions {
  /**
   * Where to write. Without it each line goes to the bus's logger (`ctx.logger`).
   * @defaultValue the bus's logger
   */
  logger?: Logger;
  /**
   * Level of the line written after an event was published (and of a failed publish, which is logged as `warn`
   * unless this is `'off'`).
   * @defaultValue 'debug'
   */
  publishedLevel?: LoggingLevel;
  /**
   * Level of the line written after a handler succeeded, with its `durationMs`.
   * @defaultValue 'debug'
   */
  handledLevel?: LoggingLevel;
  /**
   * Level of the line written after a handler failed, with the error, attempt and group.
   * @defaultValue 'warn'
   */
  failedLevel?: LoggingLevel;
}

const WHERE = 'logging()';
const LEVELS: ReadonlySet<unknown> = new Set<LoggingLevel>(['debug', 'info', 'warn', 'error', 'off']);

function checkLogger(logger: Logger | undefined): Logger | undefined {
  if (logger === undefined) return undefined;
  const complete = typeof logger === 'object' && logger !== null;
  if (
    !complete ||
    !(['debug', 'info', 'warn', 'error'] as const).every((m) => typeof logger[m] === 'function')
  ) {
    throw new InvalidOptionError(WHERE, 'logger', 'must have debug, info, warn and error methods');
  }
  return logger;
}

function checkLevel(option: string, value: unknown, fallback: LoggingLevel): LoggingLevel {
  if (value === undefined) return fallback;
  if (LEVELS.has(value)) return value as LoggingLevel;
  throw new InvalidOptionError(
    WHERE,
    option,
    `must be 'debug', 'info', 'warn', 'error' or 'off', got ${String(value)}`,
  );
}

/**
 * Logs every publish, every handled event with its duration, and every failed handling with its error, attempt
 * and group. Errors are logged and passed on unchanged: retry and dead-lettering stay the bus's job.
 *
 * @throws {@link InvalidOptionError} when a level is not a logger method or `'off'`.
 * @example
 * ```ts
 * bus.use(logging());                          // debug lines to the bus's logger, failures as warn
 * bus.use(logging({ handledLevel: 'info' }));  // one info line per handled event
 * ```
 */
export function logging(options: LoggingOptions = {}): Middleware {
  const own = checkLogger(options.logger);
  const publishedLevel = checkLevel('publishedLevel', options.publishedLevel, 'debug');
  const handledLevel = checkLevel('handledLevel', options.handledLevel, 'debug');
  const failedLevel = checkLevel('failedLevel', options.failedLevel, 'warn');

  return {
    name: 'logging',
    async publish(ctx, next) {
      if (publishedLevel === 'off') return next();
      const logger = own ?? ctx.logger;
      const started = performance.now();
      try {
        await next();
      } catch (error) {
        const { id, type } = ctx.envelope;
        logger.warn('publish failed', { id, type, durationMs: performance.now() - started, error });
        throw error;
      }
      const { id, type } = ctx.envelope;
      logger[publishedLevel]('published', { id, type, durationMs: performance.now() - started });
    },
    async consume(ctx, next) {
      const logger = own ?? ctx.logger;
      const started = performance.now();
      try {
        await next();
      } catch (error) {
        if (failedLevel !== 'off') {
          const { id, type } = ctx.envelope;
          const { subscription, group, attempt } = ctx;
          const durationMs = performance.now() - started;
          logger[failedLevel]('handler failed', {
            id,
            type,
            subscription,
            group,
            attempt,
            durationMs,
            error,
          });
        }
        throw error;
      }
      if (handledLevel !== 'off') {
        const { id, type } = ctx.envelope;
        const { subscription, group, attempt } = ctx;
        logger[handledLevel]('handled', {
          id,
          type,
          subscription,
          group,
          attempt,
          durationMs: performance.now() - started,
        });
      }
    },
  };
}
