#!/usr/bin/env node
// Makes sure the PostgreSQL, Redis, RabbitMQ and NATS (with JetStream) that the integration tests use accept TCP
// connections, and that the Chromium the browser tests drive (through playwright-core) is installed.
// Fast path: every port answers and Chromium is there, nothing else runs. Otherwise local services are started,
// and installed from Debian first if missing. Services that PGHOST/PGPORT/REDIS_URL/AMQP_URL/NATS_URL point
// elsewhere are only checked.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const WAIT_MS = 30_000;
const POSTGRES_DEFAULT = { host: '127.0.0.1', port: 5432 };
const REDIS_DEFAULT = { host: '127.0.0.1', port: 6379 };
const AMQP_DEFAULT = { host: '127.0.0.1', port: 5672 };
const NATS_DEFAULT = { host: '127.0.0.1', port: 4222 };
// RabbitMQ boots an Erlang VM and its plugins: on a busy 2-core machine that can take most of a minute.
const RABBITMQ_WAIT_MS = 90_000;
const TEST_DATABASE = 'test';
const CHROMIUM = '/usr/bin/chromium';

function postgresTarget() {
  const fromEnvHost =
    process.env.PGHOST && !process.env.PGHOST.startsWith('/') ? process.env.PGHOST : undefined;
  const host = fromEnvHost ?? POSTGRES_DEFAULT.host;
  const port = Number(process.env.PGPORT || POSTGRES_DEFAULT.port);
  const managed = LOCAL_HOSTS.has(host) && port === POSTGRES_DEFAULT.port;
  return { name: 'postgres', host, port, managed, envHint: 'PGHOST/PGPORT' };
}

function redisTarget() {
  let host = REDIS_DEFAULT.host;
  let port = REDIS_DEFAULT.port;
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    host = url.hostname || host;
    port = Number(url.port || REDIS_DEFAULT.port);
  }
  return { name: 'redis', host, port, managed: LOCAL_HOSTS.has(host), envHint: 'REDIS_URL' };
}

function urlTarget(name, variable, fallback) {
  let host = fallback.host;
  let port = fallback.port;
  if (process.env[variable]) {
    const url = new URL(process.env[variable].split(',')[0]);
    host = url.hostname || host;
    port = Number(url.port || fallback.port);
  }
  const managed = LOCAL_HOSTS.has(host) && port === fallback.port;
  return { name, host, port, managed, envHint: variable };
}

function canConnect({ host, port }, timeoutMs = 300) {
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitFor(target, waitMs = WAIT_MS) {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await canConnect(target)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

let privilegePrefix;
function privileged(command, args, options = {}) {
  if (privilegePrefix === undefined) {
    if (process.getuid?.() === 0) privilegePrefix = [];
    else if (commandExists('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) {
      privilegePrefix = ['sudo', '-n'];
    } else {
      throw new Error(
        'starting or installing PostgreSQL/Redis needs root (or password-less sudo); ' +
          'run this script as root, or start the services yourself and point PGHOST/PGPORT/REDIS_URL at them',
      );
    }
  }
  const [bin, ...rest] = [...privilegePrefix, command, ...args];
  return execFileSync(bin, rest, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...options });
}

function postgresVersions() {
  if (!existsSync('/etc/postgresql')) return [];
  return readdirSync('/etc/postgresql').filter((version) => /^\d+$/.test(version));
}

function installedPostgresVersions() {
  if (!existsSync('/usr/lib/postgresql')) return [];
  return readdirSync('/usr/lib/postgresql').filter((version) =>
    existsSync(`/usr/lib/postgresql/${version}/bin/postgres`),
  );
}

let aptUpdated = false;
function aptInstall(packages) {
  if (!commandExists('apt-get')) {
    throw new Error(`cannot install ${packages.join(', ')}: apt-get not found; install them yourself`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    privileged('apt-get', ['update'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    aptUpdated = true;
  }
  privileged('apt-get', ['install', '-y', ...packages], { env, stdio: ['ignore', 'inherit', 'inherit'] });
}

function configurePostgres(version) {
  const dir = `/etc/postgresql/${version}/main`;
  const hba = `${dir}/pg_hba.conf`;
  const conf = `${dir}/postgresql.conf`;
  // Trust rules go first so they win over the packaged peer/scram rules; the tests connect as `postgres`.
  const script = [
    `grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\\.0\\.0\\.1/32[[:space:]]+trust' ${hba} ||`,
    `sed -i '1i local all all trust\\nhost all all 127.0.0.1/32 trust\\nhost all all ::1/128 trust' ${hba};`,
    `grep -Eq "^listen_addresses" ${conf} || echo "listen_addresses = 'localhost'" >> ${conf}`,
  ].join(' ');
  privileged('sh', ['-c', script]);
}

function createTestDatabase(target) {
  const psql = ['-h', target.host, '-p', String(target.port), '-U', 'postgres', '-d', 'postgres', '-Atc'];
  const exists = execFileSync(
    'psql',
    [...psql, `SELECT 1 FROM pg_database WHERE datname = '${TEST_DATABASE}'`],
    {
      encoding: 'utf8',
    },
  );
  if (exists.trim() !== '1') execFileSync('psql', [...psql, `CREATE DATABASE "${TEST_DATABASE}"`]);
}

async function startPostgres(target) {
  let how = 'started';
  if (installedPostgresVersions().length === 0 || !commandExists('pg_ctlcluster')) {
    aptInstall(['postgresql', 'redis-server']);
    how = 'installed and started';
  }
  for (const version of installedPostgresVersions()) {
    if (!existsSync(`/etc/postgresql/${version}/main`)) privileged('pg_createcluster', [version, 'main']);
  }
  for (const version of postgresVersions()) {
    configurePostgres(version);
    try {
      privileged('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
    } catch (error) {
      // Exit code 2 means "already running", e.g. on another port; the wait below decides.
      if (error.status !== 2) throw error;
    }
  }
  if (!(await waitFor(target))) return { ok: false, how };
  createTestDatabase(target);
  return { ok: true, how };
}

async function startRedis(target) {
  let how = 'started';
  if (!commandExists('redis-server')) {
    aptInstall(['redis-server']);
    how = 'installed and started';
  }
  privileged('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '-::1',
    '--port',
    String(target.port),
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  return { ok: await waitFor(target), how };
}

async function startRabbitmq(target) {
  let how = 'started';
  if (!commandExists('rabbitmq-server')) {
    aptInstall(['rabbitmq-server']);
    how = 'installed and started';
  }
  // Debian's package may start it through its init script on install; -detached is a no-op race-wise, the wait decides.
  if (!(await canConnect(target))) {
    try {
      privileged('rabbitmq-server', ['-detached']);
    } catch (error) {
      console.warn(`rabbitmq: rabbitmq-server -detached: ${error instanceof Error ? error.message : error}`);
    }
  }
  return { ok: await waitFor(target, RABBITMQ_WAIT_MS), how, waitMs: RABBITMQ_WAIT_MS };
}

async function startNats(target) {
  let how = 'started';
  if (!commandExists('nats-server')) {
    aptInstall(['nats-server']);
    how = 'installed and started';
  }
  const server = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
  privileged('mkdir', ['-p', '/var/lib/nats-server']);
  const args = ['-a', '127.0.0.1', '-p', String(target.port), '-js', '-sd', '/var/lib/nats-server'];
  if (commandExists('start-stop-daemon')) {
    privileged('start-stop-daemon', [
      '--start',
      '--oknodo',
      '--background',
      '--exec',
      server,
      '--',
      ...args,
      '-l',
      '/var/log/nats-server.log',
    ]);
  } else {
    spawn(server, args, { detached: true, stdio: 'ignore' }).unref();
  }
  return { ok: await waitFor(target), how };
}

/** The INFO line a NATS server sends on connect says whether JetStream is on. */
function natsInfo({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let text = '';
    const done = (info) => {
      socket.destroy();
      resolve(info);
    };
    socket.setTimeout(2_000, () => done(undefined));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      const line = text.split('\r\n')[0];
      if (text.includes('\r\n')) {
        try {
          done(JSON.parse(line.replace(/^INFO\s+/, '')));
        } catch {
          done(undefined);
        }
      }
    });
    socket.once('error', () => done(undefined));
  });
}

async function ensure(target, start, up) {
  const address = `${target.host}:${target.port}`;
  if (up)
    return `${target.name} ${address} ok (${target.managed ? 'already running' : 'reachable, not managed here'})`;
  if (!target.managed) {
    throw new Error(
      `${target.name} ${address} is not reachable; it comes from ${target.envHint}, so it is not started here: start it or unset ${target.envHint}`,
    );
  }
  const { ok, how, waitMs = WAIT_MS } = await start(target);
  if (!ok) {
    throw new Error(
      `${target.name} ${address} did not accept connections within ${waitMs / 1000} s after it was ${how}`,
    );
  }
  return `${target.name} ${address} ok (${how})`;
}

// Debian's build, not Playwright's download: it is what apt keeps patched, and it needs no network at test time.
function ensureChromium() {
  if (existsSync(CHROMIUM)) return `chromium ${CHROMIUM} ok (already installed)`;
  if (process.getuid?.() !== 0 || !commandExists('apt-get')) {
    console.warn(
      `chromium: ${CHROMIUM} is missing and is installed here only as root with apt-get; ` +
        'install Chromium yourself, or the browser tests will fail',
    );
    return undefined;
  }
  console.log(`chromium: ${CHROMIUM} is missing, installing Debian's chromium with apt-get`);
  aptInstall(['chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} is still missing`);
  return `chromium ${CHROMIUM} ok (installed)`;
}

const postgres = postgresTarget();
const redis = redisTarget();
const rabbitmq = urlTarget('rabbitmq', 'AMQP_URL', AMQP_DEFAULT);
const nats = urlTarget('nats', 'NATS_URL', NATS_DEFAULT);
const [postgresUp, redisUp, rabbitmqUp, natsUp] = await Promise.all(
  [postgres, redis, rabbitmq, nats].map((target) => canConnect(target)),
);

let failed = false;
// Sequential, so a fresh install (one apt run for both) is not raced by the second service.
for (const [target, start, up] of [
  [postgres, startPostgres, postgresUp],
  [redis, startRedis, redisUp],
  [rabbitmq, startRabbitmq, rabbitmqUp],
  [nats, startNats, natsUp],
]) {
  try {
    console.log(await ensure(target, start, up));
  } catch (error) {
    failed = true;
    console.error(`${target.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
if (await canConnect(nats)) {
  const info = await natsInfo(nats);
  if (info !== undefined && info.jetstream !== true) {
    failed = true;
    console.error(
      `nats: ${nats.host}:${nats.port} runs without JetStream; restart it with -js (and -sd <store dir>)`,
    );
  }
}
try {
  const outcome = ensureChromium();
  if (outcome) console.log(outcome);
} catch (error) {
  failed = true;
  console.error(`chromium: ${error instanceof Error ? error.message : String(error)}`);
}
process.exitCode = failed ? 1 : 0;
