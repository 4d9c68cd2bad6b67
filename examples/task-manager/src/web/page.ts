/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The task manager's page: sign-in, the project board (live over the ws-bridge), a timeline with dependencies and the
// critical path, the notifications feed, and an operations view. Plain TypeScript and the DOM, bundled by esbuild.
import { createBridgeClient } from '@relaybus/ws-bridge/client';

interface Task {
  id: string;
  title: string;
  status: 'pending' | 'in_progress' | 'completed';
  priority: string;
  assigneeId: string | null;
  startDate: string | null;
  endDate: string | null;
  durationDays: number;
  isCritical: boolean;
  dependsOn: string[];
  version: number;
}
interface Project {
  id: string;
  name: string;
}
type View = 'board' | 'timeline' | 'notifications' | 'operations';

const state = {
  token: localStorage.getItem('token'),
  projects: [] as Project[],
  project: null as string | null,
  tasks: null as Task[] | null,
  notifications: null as Array<{ subject: string; sentAt: string }> | null,
  ops: null as Record<string, unknown> | null,
  view: 'board' as View,
  error: null as string | null,
  live: 'connecting',
};

const app = document.getElementById('app') as HTMLElement;
const esc = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, {
    ...init,
    headers: { ...(state.token ? { authorization: `Bearer ${state.token}` } : {}), ...(init.headers ?? {}) },
  });
  if (response.status === 401) {
    signOut();
    throw new Error('your session ended: sign in again');
  }
  const body = response.status === 204 ? undefined : await response.json();
  if (!response.ok)
    throw new Error((body as { error?: string } | undefined)?.error ?? `HTTP ${response.status}`);
  return body as T;
}

function signOut(): void {
  state.token = null;
  localStorage.removeItem('token');
  render();
}

async function load(): Promise<void> {
  try {
    state.error = null;
    if (state.projects.length === 0) {
      state.projects = (await api<{ items: Project[] }>('/api/v1/projects')).items;
      state.project ??= state.projects[0]?.id ?? null;
    }
    if (state.project !== null) {
      state.tasks = (await api<{ items: Task[] }>(`/api/v1/projects/${state.project}/tasks?limit=200`)).items;
    } else {
      state.tasks = [];
    }
    state.notifications = (
      await api<{ items: Array<{ subject: string; sentAt: string }> }>('/api/v1/notifications')
    ).items;
    if (state.view === 'operations') state.ops = await api('/api/v1/ops');
  } catch (error) {
    state.error = (error as Error).message;
  }
  render();
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
function refreshSoon(): void {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void load(), 50);
}

let client: ReturnType<typeof createBridgeClient> | undefined;
function connect(): void {
  client?.close();
  client = createBridgeClient({ url: '/relaybus', token: () => state.token ?? '' });
  client.on('state', (live) => {
    state.live = live;
    renderStatus();
  });
  // Every change of the project arrives here; the page then reloads what it shows (after a gap, too).
  client.subscribe({ pattern: 'task.*' }, refreshSoon);
  client.subscribe(
    { types: ['tasks.rescheduled', 'project.critical_path_calculated', 'notification.sent'] },
    refreshSoon,
  );
  client.on('resync', refreshSoon);
}

function renderStatus(): void {
  const status = document.getElementById('live');
  if (status) {
    status.textContent = state.live === 'open' ? 'live' : state.live;
    status.className = `live ${state.live === 'open' ? 'on' : 'off'}`;
  }
}

function card(task: Task): string {
  return `<li class="card${task.isCritical ? ' critical' : ''}" data-task="${esc(task.id)}">
    <strong>${esc(task.title)}</strong>
    <span class="meta">${esc(task.priority)}${task.assigneeId ? ` · ${esc(task.assigneeId)}` : ''}${task.isCritical ? ' · critical' : ''}</span>
  </li>`;
}

function board(tasks: Task[]): string {
  const columns: Array<[Task['status'], string]> = [
    ['pending', 'To do'],
    ['in_progress', 'In progress'],
    ['completed', 'Done'],
  ];
  return `<div class="board">${columns
    .map(([status, title]) => {
      const items = tasks.filter((task) => task.status === status);
      return `<section class="column" data-status="${status}"><h2>${title} <small>${items.length}</small></h2>
        ${items.length === 0 ? '<p class="empty">Nothing here</p>' : `<ul>${items.map(card).join('')}</ul>`}</section>`;
    })
    .join('')}</div>`;
}

function timeline(tasks: Task[]): string {
  const dated = tasks.filter((task) => task.startDate && task.endDate);
  if (dated.length === 0) return '<p class="empty">No dated tasks yet</p>';
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
  const first = Math.min(...dated.map((task) => day(task.startDate as string)));
  const last = Math.max(...dated.map((task) => day(task.endDate as string)));
  const span = Math.max(1, last - first + 1);
  const titles = new Map(tasks.map((task) => [task.id, task.title]));
  return `<ol class="timeline">${dated
    .sort((a, b) => (a.startDate as string).localeCompare(b.startDate as string))
    .map((task) => {
      const left = ((day(task.startDate as string) - first) / span) * 100;
      const width = Math.max(
        1.5,
        ((day(task.endDate as string) - day(task.startDate as string) + 1) / span) * 100,
      );
      const after = task.dependsOn.map((id) => esc(titles.get(id) ?? id)).join(', ');
      return `<li class="row${task.isCritical ? ' critical' : ''}" data-task="${esc(task.id)}">
        <span class="label">${esc(task.title)}${after ? `<small> after ${after}</small>` : ''}</span>
        <span class="track"><span class="bar" style="left:${left}%;width:${width}%" title="${esc(task.startDate)} → ${esc(task.endDate)}"></span></span>
      </li>`;
    })
    .join('')}</ol>`;
}

function feed(): string {
  const items = state.notifications ?? [];
  if (items.length === 0) return '<p class="empty">No notifications yet</p>';
  return `<ul class="feed">${items
    .map(
      (item) => `<li>${esc(item.subject)} <small>${esc(new Date(item.sentAt).toLocaleString())}</small></li>`,
    )
    .join('')}</ul>`;
}

function operations(): string {
  const ops = state.ops as {
    relay: { eventsBehind: number; secondsBehind: number; parked: number };
    jobs: Record<string, number>;
    deadJobs: Array<{ id: string; type: string; lastError?: string }>;
    deadLetters: Array<{ id: string; reason: string; message: { topic: string }; group?: string }>;
  } | null;
  if (ops === null) return '<p class="loading">Loading…</p>';
  const counts = Object.entries(ops.jobs)
    .map(([name, count]) => `<td>${esc(name)}</td><td>${esc(count)}</td>`)
    .join('</tr><tr>');
  return `<div class="ops">
    <section><h2>Outbox relay</h2><p>${esc(ops.relay.eventsBehind)} events behind (${esc(ops.relay.secondsBehind)} s), ${esc(ops.relay.parked)} parked</p></section>
    <section><h2>Job queue</h2><table><tr>${counts}</tr></table></section>
    <section><h2>Dead jobs</h2>${
      ops.deadJobs.length === 0
        ? '<p class="empty">None</p>'
        : `<ul>${ops.deadJobs.map((job) => `<li>${esc(job.type)} <button data-retry-job="${esc(job.id)}">Retry</button></li>`).join('')}</ul>`
    }</section>
    <section><h2>Dead letters</h2>${
      ops.deadLetters.length === 0
        ? '<p class="empty">None</p>'
        : `<ul>${ops.deadLetters.map((letter) => `<li>${esc(letter.message.topic)} in ${esc(letter.group ?? '-')}: ${esc(letter.reason)}</li>`).join('')}</ul>
           <button data-redrive>Redrive all</button>`
    }</section>
  </div>`;
}

function render(): void {
  if (!state.token) {
    app.innerHTML = `<form id="login" class="login">
      <h1>Task manager</h1>
      <label>Email <input name="email" type="email" value="ada@example.com" required></label>
      <label>Password <input name="password" type="password" value="demo" required></label>
      <button>Sign in</button>${state.error ? `<p class="error">${esc(state.error)}</p>` : ''}
    </form>`;
    (document.getElementById('login') as HTMLFormElement).onsubmit = async (event) => {
      event.preventDefault();
      const form = new FormData(event.target as HTMLFormElement);
      try {
        const { token } = await api<{ token: string }>('/api/v1/auth/login', {
          method: 'POST',
          body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
        });
        state.token = token;
        localStorage.setItem('token', token);
        state.error = null;
        connect();
        await load();
      } catch (error) {
        state.error = (error as Error).message;
        render();
      }
    };
    return;
  }
  const views: View[] = ['board', 'timeline', 'notifications', 'operations'];
  const body =
    state.tasks === null
      ? '<p class="loading">Loading…</p>'
      : state.view === 'board'
        ? board(state.tasks)
        : state.view === 'timeline'
          ? timeline(state.tasks)
          : state.view === 'notifications'
            ? feed()
            : operations();
  app.innerHTML = `<header>
      <h1>Task manager</h1>
      <select id="project">${state.projects.map((p) => `<option value="${esc(p.id)}"${p.id === state.project ? ' selected' : ''}>${esc(p.name)}</option>`).join('')}</select>
      <nav>${views.map((view) => `<button data-view="${view}" class="${view === state.view ? 'active' : ''}">${view}</button>`).join('')}</nav>
      <span id="live" class="live"></span><button id="signout">Sign out</button>
    </header>
    ${state.error ? `<p class="error">${esc(state.error)} <button id="retry">Retry</button></p>` : ''}
    <main>${body}</main>`;
  renderStatus();
  (document.getElementById('project') as HTMLSelectElement).onchange = (event) => {
    state.project = (event.target as HTMLSelectElement).value;
    state.tasks = null;
    render();
    void load();
  };
  for (const button of app.querySelectorAll<HTMLButtonElement>('[data-view]')) {
    button.onclick = () => {
      state.view = button.dataset['view'] as View;
      render();
      void load();
    };
  }
  (document.getElementById('signout') as HTMLButtonElement).onclick = () => {
    client?.close();
    signOut();
  };
  const retry = document.getElementById('retry');
  if (retry) retry.onclick = () => void load();
  for (const button of app.querySelectorAll<HTMLButtonElement>('[data-retry-job]')) {
    button.onclick = () =>
      void api(`/api/v1/ops/dead-jobs/${button.dataset['retryJob']}/retry`, { method: 'POST' }).then(load);
  }
  const redrive = app.querySelector<HTMLButtonElement>('[data-redrive]');
  if (redrive)
    redrive.onclick = () => void api('/api/v1/ops/dead-letters/redrive', { method: 'POST' }).then(load);
}

render();
if (state.token) {
  connect();
  void load();
}
(window as unknown as { appReady: boolean }).appReady = true;
