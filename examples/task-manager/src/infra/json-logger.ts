import type { Logger } from '@relaybus/core';

/** A logger writing one JSON object per line to stdout (stderr for warnings and errors), for log collectors. */
export function jsonLogger(fields: Record<string, unknown> = {}): Logger {
  const write = (level: string, message: string, extra?: Record<string, unknown>) => {
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg: message, ...fields };
    for (const [key, value] of Object.entries(extra ?? {})) {
      line[key] =
        value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;
    }
    (level === 'warn' || level === 'error' ? process.stderr : process.stdout).write(
      `${JSON.stringify(line)}\n`,
    );
  };
  return {
    debug: () => {},
    info: (message, extra) => write('info', message, extra),
    warn: (message, extra) => write('warn', message, extra),
    error: (message, extra) => write('error', message, extra),
  };
}
