import { consoleLogger } from '@relaybus/core';
import { startApp } from './app';

const app = await startApp({
  port: Number(process.env['PORT'] ?? 3000),
  logger: { ...consoleLogger, info: (message) => console.log(message) },
});
console.log(
  `task-manager listening on ${app.url} (try: curl -X POST ${app.url}/api/v1/tasks -d '{"projectId":"p1","title":"Ship it"}')`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
