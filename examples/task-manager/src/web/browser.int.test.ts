import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../app';
import { signIn } from '../test-support';

// The page in headless Chromium (Debian's chromium, driven by playwright-core) against the app on PGlite and the
// memory transport. UPDATE_SCREENSHOTS=1 also writes the README's screenshots.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

let app: Awaited<ReturnType<typeof startApp>>;
let browser: Browser;
let page: Page;
let ada: Awaited<ReturnType<typeof signIn>>;

beforeAll(async () => {
  app = await startApp({ port: 0 });
  ada = await signIn(app);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function screenshot(name: string): Promise<void> {
  if (process.env['UPDATE_SCREENSHOTS'] !== '1') return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}

const createTask = async (title: string) => {
  const response = await ada('/api/v1/tasks', {
    method: 'POST',
    body: JSON.stringify({ projectId: 'p1', title }),
  });
  expect(response.status).toBe(201);
};

describe('the task manager page in Chromium', () => {
  it('signs in and shows the board, live', async () => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Design the landing page').waitFor({ timeout: 15_000 });
    await page.locator('#live.on').waitFor({ timeout: 15_000 });
    expect(await page.locator('.column[data-status="pending"] .card').count()).toBeGreaterThan(0);
    await screenshot('board');
  }, 60_000);

  it('shows a task created through the API without a reload', async () => {
    await createTask('Made through the API');
    await page.getByText('Made through the API').waitFor({ timeout: 15_000 });
  }, 30_000);

  it('resumes after the connection dropped, with what happened meanwhile', async () => {
    await page.context().setOffline(true);
    await page.locator('#live.off').waitFor({ timeout: 15_000 });
    await createTask('Made while offline');
    await page.context().setOffline(false);
    await page.locator('#live.on').waitFor({ timeout: 30_000 });
    await page.getByText('Made while offline').waitFor({ timeout: 15_000 });
  }, 60_000);

  it('shows the timeline with the critical path, the notifications and the operations view', async () => {
    await page.getByRole('button', { name: 'timeline' }).click();
    await page.locator('.timeline .row.critical').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.timeline .row.critical').count()).toBe(3); // design → build → launch
    await screenshot('timeline');
    await page.getByRole('button', { name: 'notifications' }).click();
    await page.locator('.feed li').first().waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'operations' }).click();
    await page.getByText('Outbox relay').waitFor({ timeout: 15_000 });
    await page.getByText(/events behind/).waitFor({ timeout: 15_000 });
    await screenshot('operations');
  }, 60_000);
});
