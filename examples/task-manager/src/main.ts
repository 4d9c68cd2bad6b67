import { consoleLogger, InvalidOptionError } from '@relaybus/core';
import { ROLES, type Role, startApp } from './app';
import { jsonLogger } from './infra/json-logger';
import { createTransport, transportConfigFromEnv } from './infra/transport';
import { smtpEmailSender } from './notifications/senders';
import { DEMO_PASSWORD, DEMO_USERS } from './seed';

// LOG_FORMAT=json for one JSON object per line; readable lines otherwise.
const logger =
  process.env['LOG_FORMAT'] === 'json'
    ? jsonLogger({ service: 'task-manager' })
    : { ...consoleLogger, info: (message: string) => console.log(message) };
const transportConfig = transportConfigFromEnv();
// ROLES=api,relay runs only those parts (see startApp); all of them by default.
const roles = (process.env['ROLES'] ?? ROLES.join(','))
  .split(',')
  .map((role) => role.trim())
  .filter(Boolean);
for (const role of roles) {
  if (!(ROLES as ReadonlyArray<string>).includes(role)) {
    throw new InvalidOptionError(
      'environment',
      'ROLES',
      `has ${JSON.stringify(role)}; roles are ${ROLES.join(', ')}`,
    );
  }
}
const databaseUrl = process.env['DATABASE_URL'];
const app = await startApp({
  roles: roles as Role[],
  port: Number(process.env['PORT'] ?? 3000),
  logger,
  transport: await createTransport(transportConfig, logger),
  database:
    databaseUrl === undefined
      ? { kind: 'pglite', dataDir: process.env['DATA_DIR'] ?? 'data/pg' }
      : { kind: 'postgres', url: databaseUrl },
  ...(process.env['AUTH_SECRET'] === undefined ? {} : { authSecret: process.env['AUTH_SECRET'] }),
  ...(process.env['NOTION_WEBHOOK_SECRET'] === undefined
    ? {}
    : { notionSecret: process.env['NOTION_WEBHOOK_SECRET'] }),
  // SMTP_URL such as smtp://user:pass@mail.example.com:587; without it, emails go to the log.
  ...(process.env['SMTP_URL'] === undefined
    ? {}
    : {
        email: smtpEmailSender(
          process.env['SMTP_URL'],
          process.env['MAIL_FROM'] ?? 'task-manager <tasks@localhost>',
        ),
      }),
});
console.log(`transport: ${transportConfig.kind}${transportConfig.url ? ` at ${transportConfig.url}` : ''}`);
console.log(
  `database: ${databaseUrl === undefined ? `PGlite in ${process.env['DATA_DIR'] ?? 'data/pg'}` : 'Postgres'}`,
);
console.log(`roles: ${[...app.roles].join(', ')}`);
if (app.url !== '') console.log(`task-manager listening on ${app.url}`);
if (app.url !== '')
  console.log(
    `sign in: curl -X POST ${app.url}/api/v1/auth/login -d '{"email":"${DEMO_USERS[0].email}","password":"${DEMO_PASSWORD}"}'`,
  );

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
