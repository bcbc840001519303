import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { resolveToken } from '../auth/sessions.ts';
import { credentialOf } from '../http/authenticate.ts';
import { isId } from '../lib/ids.ts';
import type { Services } from '../services.ts';
import type { Authenticated, Hub, ResumeRequest } from './hub.ts';

export const WEBSOCKET_PATH = '/api/v4/websocket';
/** Largest client frame accepted; client actions are small JSON objects. */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export interface WebSocketEndpoint {
  hub: Hub;
  /** Stops accepting upgrades and closes every socket. */
  close(): Promise<void>;
}

/**
 * Serves `GET /api/v4/websocket` on `server`. Authentication on the upgrade uses the same credentials
 * as the HTTP API (Authorization header, MMAUTHTOKEN cookie, ?access_token); a socket without one
 * must send `authentication_challenge` within the hub's auth timeout. A present but invalid header or
 * query token is refused with 401; a stale cookie is ignored so a challenge can still follow. Cookie
 * upgrades from another origin are refused (cross-site WebSocket hijacking).
 */
export function attachWebSocket(server: Server, services: Services): WebSocketEndpoint {
  const hub = services.realtime;
  const { logger } = services;
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  const siteOrigin = new URL(services.config.siteUrl).origin;

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WEBSOCKET_PATH) return refuse(socket, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.');
    const credential = credentialOf(requestView(req, url));
    if (credential?.via === 'cookie' && !sameOrigin(req, siteOrigin)) {
      return refuse(socket, 403, 'api.web_socket.connect.origin.app_error', 'Cross-origin WebSocket connections are not allowed.');
    }
    let auth: Authenticated | undefined;
    if (credential) {
      auth = await resolveToken(services.db, credential.token, services.sessionPolicy);
      if (!auth && credential.via !== 'cookie') return refuse(socket, 401, 'api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      try {
        hub.accept(ws, auth, resumeRequest(url));
      } catch (err) {
        logger.error({ err }, 'could not register websocket');
        ws.terminate();
      }
    });
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Until ws takes the socket over, a client reset must not become an uncaught error.
    const swallow = (err: Error) => logger.debug({ err }, 'websocket upgrade socket error');
    socket.on('error', swallow);
    upgrade(req, socket, head)
      .catch((err: unknown) => {
        logger.error({ err }, 'websocket upgrade failed');
        refuse(socket, 500, 'api.web_socket.connect.app_error', 'Could not open the WebSocket connection.');
      })
      .finally(() => socket.off('error', swallow));
  };

  server.on('upgrade', onUpgrade);
  hub.start();
  return {
    hub,
    async close() {
      server.off('upgrade', onUpgrade);
      await hub.stop();
      wss.close();
    },
  };
}

/** The subset of a Koa context `credentialOf` reads, built from the raw upgrade request. */
function requestView(req: IncomingMessage, url: URL) {
  return {
    method: req.method ?? 'GET',
    query: Object.fromEntries(url.searchParams),
    get(name: string): string {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : (value ?? '');
    },
    cookies: { get: (name: string) => cookieValue(req.headers.cookie, name) },
  };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** Browsers always send Origin; it must be the site itself (or the host the request came to). */
function sameOrigin(req: IncomingMessage, siteOrigin: string): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (origin === siteOrigin) return true;
  const host = req.headers.host;
  return !!host && (origin === `http://${host}` || origin === `https://${host}`);
}

/** `?connection_id=...&sequence_number=...` from a reconnecting client, when well-formed. */
function resumeRequest(url: URL): ResumeRequest | undefined {
  const connectionId = url.searchParams.get('connection_id');
  const sequence = url.searchParams.get('sequence_number');
  if (!isId(connectionId) || sequence === null || !/^\d{1,15}$/.test(sequence)) return undefined;
  return { connectionId, sequence: Number(sequence) };
}

/** Answers the upgrade request with a Mattermost error instead of switching protocols. */
function refuse(socket: Duplex, status: number, id: string, message: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ id, message, detailed_error: '', request_id: '', status_code: status });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
