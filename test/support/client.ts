import { Client4 } from '@mattermost/client';
import type { TestApp } from './app.ts';

/** An official Mattermost Client4 pointed at the test app, optionally already holding a token. */
export function client4(app: TestApp, token?: string): Client4 {
  const client = new Client4();
  client.setUrl(app.url);
  if (token) client.setToken(token);
  return client;
}

/** Runs `fn` expecting Client4 to reject with an HTTP error; returns the status code. */
export async function statusOf(fn: () => Promise<unknown>): Promise<number> {
  try {
    await fn();
  } catch (err) {
    return (err as { status_code?: number }).status_code ?? -1;
  }
  throw new Error('expected the request to fail');
}
