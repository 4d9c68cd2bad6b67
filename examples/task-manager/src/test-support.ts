import type { startApp } from './app';

type App = Awaited<ReturnType<typeof startApp>>;

/** Signs in as a demo user and returns a fetch that sends the token. */
export async function signIn(app: App, email = 'ada@example.com') {
  const response = await fetch(`${app.url}/api/v1/auth/login`, {
    method: 'POST',
    body: JSON.stringify({ email, password: 'demo' }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const { token } = (await response.json()) as { token: string };
  return (path: string, init: RequestInit = {}) =>
    fetch(`${app.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
    });
}
