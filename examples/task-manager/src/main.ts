import { consoleLogger } from '@relaybus/core';
import { startApp } from './app';
import { createTransport, transportConfigFromEnv } from './infra/transport';

const logger = { ...consoleLogger, info: (message: string) => console.log(message) };
const transportConfig = transportConfigFromEnv();
const app = await startApp({
  port: Number(process.env['PORT'] ?? 3000),
  logger,
  transport: await createTransport(transportConfig, logger),
});
console.log(`transport: ${transportConfig.kind}${transportConfig.url ? ` at ${transportConfig.url}` : ''}`);
console.log(
  `task-manager listening on ${app.url} (try: curl -X POST ${app.url}/api/v1/tasks -d '{"projectId":"p1","title":"Ship it"}')`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
