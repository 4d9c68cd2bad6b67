import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess } from '@relaybus/test-support';
import { connect } from 'amqplib';

const SERVER =
  ['/usr/lib/rabbitmq/bin/rabbitmq-server', '/usr/sbin/rabbitmq-server'].find(existsSync) ??
  'rabbitmq-server';
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

/** A RabbitMQ node of a test's own, on free loopback ports, with its data in a temporary directory. */
export interface OwnBroker {
  readonly url: string;
  readonly port: number;
  /** Stops the node (SIGTERM, then SIGKILL after 30 s) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the node for good and deletes its data. */
  stop(): Promise<void>;
  /** What the node printed, for failure messages. */
  output(): string;
}

/**
 * Starts `rabbitmq-server` in the foreground as a child process: its own node name (`rb-test-<random>@localhost`),
 * AMQP and distribution ports, config, plugins file, data and log directories, so it never touches the shared
 * broker. Resolves once the node answers AMQP.
 */
export async function startOwnBroker(): Promise<OwnBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'rb-test-'));
  const port = await freePort();
  const distPort = await freePort();
  const node = `rb-test-${randomBytes(4).toString('hex')}@localhost`;
  await mkdir(join(dir, 'log'));
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    `listeners.tcp.local = 127.0.0.1:${port}\nloopback_users = none\n`,
  );
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  let server: ServerProcess | undefined;

  const start = async (): Promise<void> => {
    const started = ServerProcess.start(SERVER, [], { cwd: dir, env, logLimitChars: 20_000 });
    server = started;
    try {
      await started.waitUntil(() => answersAmqp(url), {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 250,
        what: () => `rabbitmq-server to answer AMQP at ${url}`,
      });
    } catch (error) {
      await started.kill('SIGKILL');
      throw error;
    }
  };
  const halt = async (): Promise<void> => {
    await server?.stop(STOP_TIMEOUT_MS);
  };

  await start();
  return {
    url,
    port,
    output: () => server?.log() ?? '',
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a broker answers an AMQP handshake at `url` within a second. */
async function answersAmqp(url: string): Promise<boolean> {
  try {
    const model = await connect(url, { timeout: 1_000 });
    await model.close();
    return true;
  } catch {
    return false;
  }
}
