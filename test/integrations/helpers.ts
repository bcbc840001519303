import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client4 } from '@mattermost/client';

/** A request an integration server received. */
export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  delayMs?: number;
}

/** A real HTTP server standing in for an integration (outgoing webhook target, slash command handler). */
export interface Receiver {
  url: string;
  received: Received[];
  reply: (req: Received) => Reply;
  close(): Promise<void>;
}

export async function startReceiver(reply: (req: Received) => Reply = () => ({ status: 200 })): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], reply, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      receiver.received.push(got);
      const answer = receiver.reply(got);
      const send = () => {
        const isObject = typeof answer.body === 'object';
        res.writeHead(answer.status ?? 200, { ...(isObject ? { 'Content-Type': 'application/json' } : {}), ...answer.headers });
        res.end(isObject ? JSON.stringify(answer.body) : (answer.body ?? ''));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary post shapes
export type AnyPost = any;

/** A channel's newest posts through Client4, newest first. */
export async function postsOf(client: Client4, channelId: string, perPage = 60): Promise<AnyPost[]> {
  const list = await client.getPosts(channelId, 0, perPage);
  return list.order.map((id) => list.posts[id]);
}
