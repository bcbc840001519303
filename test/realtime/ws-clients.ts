// Test helpers for /api/v4/websocket: a raw `ws` client that records every frame, waiting helpers,
// and the official @mattermost/client WebSocketClient wired for Node.
import crypto from 'node:crypto';
import net from 'node:net';
import { WebSocketClient } from '@mattermost/client';
import { WebSocket } from 'ws';
import type { ServerEvent } from '../../server/realtime/events.ts';
import type { TestApp } from '../support/app.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON frames
export type Frame = Record<string, any>;

export function wsUrl(app: { url: string }, query = ''): string {
  return app.url.replace(/^http/, 'ws') + '/api/v4/websocket' + (query ? `?${query}` : '');
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. */
export async function until<T>(check: () => T, what: string, timeoutMs = 3_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw WebSocket client that keeps every frame it receives. */
export class RawSocket {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private nextSeq = 1;
  private listeners = new Set<() => void>();

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const listener of this.listeners) listener();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  /** Server events (frames with `event`), in arrival order. */
  get events(): Frame[] {
    return this.frames.filter((f) => f.event !== undefined);
  }

  /** The first received frame matching `match`, waiting up to `timeoutMs` for it. */
  waitFor(match: (f: Frame) => boolean, what: string, timeoutMs = 3_000): Promise<Frame> {
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = () => {
        const hit = this.frames.find(match);
        if (!hit) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames.map((f) => f.event ?? f.status))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  event(name: string, marker?: string): Promise<Frame> {
    return this.waitFor((f) => f.event === name && (marker === undefined || f.data?.marker === marker), `${name}${marker ? ` ${marker}` : ''}`);
  }

  hasEvent(name: string, marker?: string): boolean {
    return this.frames.some((f) => f.event === name && (marker === undefined || f.data?.marker === marker));
  }

  /** Sends an action and waits for its `seq_reply`. */
  async request(action: string, data: Record<string, unknown> = {}): Promise<Frame> {
    const seq = this.nextSeq++;
    this.ws.send(JSON.stringify({ seq, action, data }));
    return this.waitFor((f) => f.seq_reply === seq, `reply to ${action}`);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Opens a raw socket and waits for the upgrade; `headers` carry Authorization, Cookie, Origin. */
export async function openSocket(app: { url: string }, options: { headers?: Record<string, string>; query?: string; token?: string } = {}): Promise<RawSocket> {
  const headers = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const socket = new RawSocket(wsUrl(app, options.query), headers);
  await socket.opened;
  return socket;
}

/** Opens an authenticated socket and waits for `hello`. */
export async function connect(app: { url: string }, token: string, query?: string): Promise<RawSocket> {
  const socket = await openSocket(app, { token, query });
  await socket.event('hello');
  return socket;
}

/** The HTTP status an upgrade attempt gets (101 when it succeeds). */
export function upgradeStatus(app: { url: string }, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(app), { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}

/**
 * Publishes `event` and then a private sentinel to each of `observers`. Delivery is in publish order,
 * so once an observer has its sentinel it has also received `event` if it was ever going to.
 */
export async function publishAndSettle(app: TestApp, event: ServerEvent, observers: { socket: RawSocket; userId: string }[]): Promise<void> {
  app.services.events.publish(event);
  await settle(app, observers);
}

/** Waits until every event published so far has reached each observer (see publishAndSettle). */
export async function settle(app: TestApp, observers: { socket: RawSocket; userId: string }[]): Promise<void> {
  const marker = `sentinel-${Math.random().toString(36).slice(2)}`;
  for (const o of observers) app.services.events.publish({ event: 'sentinel', data: { marker }, broadcast: { user_id: o.userId } });
  await Promise.all(observers.map((o) => o.socket.event('sentinel', marker)));
}

/** True when the frames' `seq` values are 0, 1, 2, ... without gaps. */
export function seqsAreContinuous(frames: Frame[]): boolean {
  return frames.every((f, i) => f.seq === i);
}

/** Silences the official client's console.log chatter (mocha's reporter keeps its own reference). */
export function quietOfficialClient(): () => void {
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const first = args[0];
    if (typeof first === 'string' && /^(websocket|got connection id|long timeout|missed websocket event|ping received)/.test(first)) return;
    original(...args);
  };
  return () => {
    console.log = original;
  };
}

/** An official WebSocketClient on Node's global WebSocket, recording every socket URL it opens. */
export function officialClient(config: { minWebSocketRetryTime?: number } = {}) {
  const sockets: globalThis.WebSocket[] = [];
  const urls: string[] = [];
  const client = new WebSocketClient({
    minWebSocketRetryTime: config.minWebSocketRetryTime ?? 50,
    reconnectJitterRange: 1,
    newWebSocketFn: (url: string) => {
      urls.push(url);
      const socket = new globalThis.WebSocket(url);
      sockets.push(socket);
      return socket;
    },
  });
  const messages: Frame[] = [];
  client.addMessageListener((msg) => messages.push(msg as unknown as Frame));
  return { client, sockets, urls, messages };
}

/** Completes a WebSocket handshake over plain TCP and then never reads: a client that stalls. */
export async function stalledSocket(app: { port: number }, token: string): Promise<net.Socket> {
  const socket = net.connect(app.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  socket.write(
    [
      'GET /api/v4/websocket HTTP/1.1',
      `Host: 127.0.0.1:${app.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Authorization: Bearer ${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.pause();
  return socket;
}
