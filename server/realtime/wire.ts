import os from 'node:os';
import { compatibleMattermostVersion, version } from '../lib/version.ts';
import type { Broadcast, ServerEvent } from './events.ts';

// The JSON that travels over /api/v4/websocket, in Mattermost's shapes.

/** Reported in `hello` and ping replies; clients read the first three parts as the Mattermost version. */
export const serverVersion = `${compatibleMattermostVersion}.custodian-${version}`;
export const serverHostname = os.hostname();

/** A client → server message: `{"seq": n, "action": "...", "data": {...}}`. */
export interface ClientRequest {
  seq: number;
  action: string;
  data: Record<string, unknown>;
}

/** Parses one text frame; undefined when it is not a JSON object. */
export function parseRequest(text: string): ClientRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const data = raw.data && typeof raw.data === 'object' && !Array.isArray(raw.data) ? (raw.data as Record<string, unknown>) : {};
  return { seq: typeof raw.seq === 'number' && Number.isSafeInteger(raw.seq) ? raw.seq : 0, action: typeof raw.action === 'string' ? raw.action : '', data };
}

/** The broadcast object as Mattermost serialises it: every field present. */
function wireBroadcast(b: Broadcast | undefined) {
  return {
    omit_users: b?.omit_users ?? null,
    user_id: b?.user_id ?? '',
    channel_id: b?.channel_id ?? '',
    team_id: b?.team_id ?? '',
    connection_id: '',
    omit_connection_id: '',
  };
}

/**
 * Serialises an event once, as UTF-8 bytes up to and including `"seq":`. Every recipient shares them
 * and only adds its own sequence number and `}` (see frames.ts).
 */
export function eventHead(event: ServerEvent): Buffer {
  const json = JSON.stringify({ event: event.event, data: event.data ?? {}, broadcast: wireBroadcast(event.broadcast) });
  return Buffer.from(json.slice(0, -1) + ',"seq":');
}

/** The first event on a fresh connection (seq 0). */
export function helloHead(connectionId: string, userId: string): Buffer {
  return eventHead({
    event: 'hello',
    data: { connection_id: connectionId, server_version: serverVersion, server_hostname: serverHostname },
    broadcast: { user_id: userId },
  });
}

/** `{"status":"OK","seq_reply":n}` (with `data` when given). */
export function okReply(seqReply: number, data?: unknown): string {
  return JSON.stringify(data === undefined ? { status: 'OK', seq_reply: seqReply } : { status: 'OK', seq_reply: seqReply, data });
}

/** `{"status":"FAIL","seq_reply":n,"error":{...}}` with a Mattermost AppError body. */
export function failReply(seqReply: number, id: string, message: string, statusCode: number): string {
  return JSON.stringify({
    status: 'FAIL',
    seq_reply: seqReply,
    error: { id, message, detailed_error: '', request_id: '', status_code: statusCode },
  });
}
