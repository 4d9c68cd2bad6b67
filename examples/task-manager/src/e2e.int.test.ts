import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { EventOf } from '@relaybus/core';
import { createBridgeClient } from '@relaybus/ws-bridge/client';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { catalog } from './domain/events';

// The four roles as separate processes on the machine's Postgres (a database of this run's own) and Redis (a key
// prefix of this run's own), with the notifications going to an SMTP server in the test.
const POSTGRES =
  process.env['PGHOST'] && !process.env['PGHOST'].startsWith('/') ? process.env['PGHOST'] : '127.0.0.1';
const run = `tm_e2e_${randomUUID().slice(0, 8)}`;
const databaseUrl = `postgres://postgres@${POSTGRES}:${process.env['PGPORT'] ?? 5432}/${run}`;
const adminUrl = `postgres://postgres@${POSTGRES}:${process.env['PGPORT'] ?? 5432}/postgres`;
const AUTH_SECRET = 'end-to-end-test-secret';
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

const mails: Array<{ to: string[]; raw: string }> = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    let raw = '';
    stream.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    stream.on('end', () => {
      mails.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
      callback();
    });
  },
});
const processes: Array<{ role: string; child: ChildProcess; output: string[] }> = [];
let apiUrl = '';

function startRole(role: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['--conditions=@relaybus/source', '--import', 'tsx', main], {
    env: { ...process.env, ...env, ROLES: role },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  processes.push({ role, child, output });
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      const text = output.join('');
      const url = /listening on (http:\/\/\S+)/.exec(text);
      if (url?.[1]) apiUrl = url[1];
      if (/roles: /.test(text) && (role !== 'api' || apiUrl !== '')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code) =>
      reject(new Error(`${role} exited (${code}) before it started:\n${output.join('')}`)),
    );
  });
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${run}`);
  await admin.end();
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as { port: number }).port;
  const env = {
    DATABASE_URL: databaseUrl,
    RELAYBUS_TRANSPORT: 'redis',
    REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    RELAYBUS_PREFIX: run.replaceAll('_', '-'),
    AUTH_SECRET,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_FROM: 'tasks@example.com',
    PORT: '0',
  };
  // Workers and the relay first; the API seeds the demo data once it runs.
  await Promise.all(['relay', 'job-worker', 'event-worker'].map((role) => startRole(role, env)));
  await startRole('api', env);
}, 180_000);

afterAll(async () => {
  // SIGTERM: each process finishes what it runs and exits by itself, with code 0.
  const exits = processes.map(
    ({ child }) =>
      new Promise<number | null>((resolve) =>
        child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
      ),
  );
  for (const { child } of processes) child.kill('SIGTERM');
  const codes = await Promise.all(exits);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${run} WITH (FORCE)`);
  await admin.end();
  expect(codes).toEqual(processes.map(() => 0));
}, 60_000);

describe('the task manager as four processes on Postgres and Redis', () => {
  it('an end-date change reschedules the dependents, recalculates the critical path, mails the new assignee and reaches a WebSocket client', async () => {
    const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify({ email: 'ada@example.com', password: 'demo' }),
    });
    const { token } = (await login.json()) as { token: string };
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${apiUrl}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers as object) },
      });

    const received: string[] = [];
    const client = createBridgeClient<EventOf<(typeof catalog)[number]>>({
      url: `${apiUrl.replace('http', 'ws')}/relaybus`,
      token,
      WebSocket,
    });
    const sub = client.subscribe({ types: ['tasks.rescheduled'] }, (event) => void received.push(event.type));
    await sub.ready;

    type Item = { id: string; title: string; startDate: string; isCritical: boolean; version: number };
    const load = async () => {
      const page = (await (await api('/api/v1/projects/p1/tasks?limit=200')).json()) as { items: Item[] };
      return new Map(page.items.map((task) => [task.title, task]));
    };
    await vi.waitFor(async () => expect((await load()).get('Launch')?.isCritical).toBe(true), {
      timeout: 30_000,
      interval: 200,
    });
    const design = (await load()).get('Design the landing page') as Item;
    const moved = await api(`/api/v1/tasks/${design.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ endDate: '2027-01-20', durationDays: 13, assigneeId: 'u-grace' }),
      headers: { 'if-match': `"${design.version}"` },
    });
    expect(moved.status).toBe(200);

    await vi.waitFor(
      async () => {
        const tasks = await load();
        expect(tasks.get('Build the landing page')?.startDate).toBe('2027-01-21');
        expect(tasks.get('Launch')?.startDate).toBe('2027-01-26');
        expect(tasks.get('Design the landing page')?.isCritical).toBe(true);
        expect(tasks.get('Write the launch post')?.isCritical).toBe(false);
      },
      { timeout: 30_000, interval: 200 },
    );
    await vi.waitFor(() => expect(received).toContain('tasks.rescheduled'), {
      timeout: 30_000,
      interval: 100,
    });
    await vi.waitFor(
      () =>
        expect(
          mails.some((mail) => mail.to.includes('grace@example.com') && mail.raw.includes('assigned to you')),
        ).toBe(true),
      { timeout: 30_000, interval: 100 },
    );
    client.close();
  }, 120_000);
});
