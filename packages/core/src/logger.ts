/**
 * Where relaybus writes what happens. Any logger with these four methods fits (pino and winston need a thin
 * adapter because they take fields first).
 *
 * @example
 * ```ts
 * const logger: Logger = {
 *   debug: () => {},
 *   info: (message, fields) => console.info(message, fields),
 *   warn: (message, fields) => console.warn(message, fields),
 *   error: (message, fields) => console.error(message, fields),
 * };
 * ```
 */
export interface Logger {
  /** Fine-grained detail, off in production. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation worth recording. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something went wrong and was handled (a retry, a dead letter). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Something went wrong that needs attention. */
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/**
 * A logger that writes nothing. Useful in tests and benchmarks.
 *
 * @example
 * ```ts
 * createEventBus({ events, logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * The default logger: warnings and errors to the console, nothing else.
 *
 * @example
 * ```ts
 * createEventBus({ events, logger: consoleLogger });
 * ```
 */
export const consoleLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (message, fields) => console.warn(`[relaybus] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[relaybus] ${message}`, fields ?? ''),
};
