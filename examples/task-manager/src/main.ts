import { consoleLogger } from '@relaybus/core';
import { startApp } from './app';
import { ConfigError, configFromEnv } from './infra/config';
import { jsonLogger } from './infra/json-logger';
import { createTransport } from './infra/transport';
import { smtpEmailSender } from './notifications/senders';
import { DEMO_PASSWORD, DEMO_USERS } from './seed';

// Every variable is checked before anything starts; a bad one stops the process, naming it.
let config: ReturnType<typeof configFromEnv>;
try {
  config = configFromEnv();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger =
  config.LOG_FORMAT === 'json'
    ? jsonLogger({ service: 'task-manager', roles: config.ROLES.join(',') })
    : { ...consoleLogger, info: (message: string) => console.log(message) };
const app = await startApp({
  roles: config.ROLES,
  port: config.PORT,
  logger,
  transport: await createTransport(config.transport, logger),
  database:
    config.DATABASE_URL === undefined
      ? { kind: 'pglite', dataDir: config.DATA_DIR }
      : { kind: 'postgres', url: config.DATABASE_URL },
  ...(config.AUTH_SECRET === undefined ? {} : { authSecret: config.AUTH_SECRET }),
  ...(config.NOTION_WEBHOOK_SECRET === undefined ? {} : { notionSecret: config.NOTION_WEBHOOK_SECRET }),
  // SMTP_URL such as smtp://user:pass@mail.example.com:587; without it, emails go to the log.
  ...(config.SMTP_URL === undefined ? {} : { email: smtpEmailSender(config.SMTP_URL, config.MAIL_FROM) }),
});
console.log(
  `transport: ${config.transport.kind}${config.transport.url ? ` at ${config.transport.url}` : ''}`,
);
console.log(`database: ${config.DATABASE_URL === undefined ? `PGlite in ${config.DATA_DIR}` : 'Postgres'}`);
console.log(`roles: ${[...app.roles].join(', ')}`);
if (app.url !== '') {
  console.log(`task-manager listening on ${app.url}`);
  console.log(
    `sign in: curl -X POST ${app.url}/api/v1/auth/login -d '{"email":"${DEMO_USERS[0].email}","password":"${DEMO_PASSWORD}"}'`,
  );
}

// SIGTERM (or Ctrl-C): stop taking work, finish what runs, then exit; a second signal exits at once.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info(`${signal}: shutting down`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
    process.once(signal, () => process.exit(1));
  });
}
