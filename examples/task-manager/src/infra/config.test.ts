import { describe, expect, it } from 'vitest';
import { ConfigError, configFromEnv } from './config';

describe('configFromEnv', () => {
  it('starts with nothing set: PGlite in data/pg, the memory transport, every role', () => {
    const config = configFromEnv({});
    expect(config).toMatchObject({ PORT: 3000, DATA_DIR: 'data/pg', LOG_FORMAT: 'text' });
    expect(config.ROLES).toEqual(['api', 'event-worker', 'job-worker', 'relay']);
    expect(config.transport.kind).toBe('memory');
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      configFromEnv({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        ROLES: 'api,cron',
        AUTH_SECRET: 'short',
        RELAYBUS_TRANSPORT: 'kafka',
        SMTP_URL: 'http://mail',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((problem) => problem.variable).sort();
    expect(variables).toEqual([
      'AUTH_SECRET',
      'DATABASE_URL',
      'PORT',
      'RELAYBUS_TRANSPORT',
      'ROLES',
      'SMTP_URL',
    ]);
    expect((error as Error).message).toMatch(/ROLES: .*cron|ROLES: Invalid/);
  });
});
