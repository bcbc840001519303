// The audit record: Mattermost's audit shape plus an id, a timestamp and (once sealed) a sequence
// number. Secrets are removed here, in one place, before anything is stored.
import crypto from 'node:crypto';
import { newId } from '../server/lib/ids.ts';
import { canonicalJson } from './canonical.ts';

export type AuditStatus = 'success' | 'attempt' | 'fail';

/** Who acted. Empty strings when unknown (a failed sign-in has no user; a CLI command no session). */
export interface AuditActor {
  user_id: string;
  session_id: string;
  ip_address: string;
  user_agent: string;
}

export interface AuditEvent {
  /** What the action was asked to do (request parameters), secrets redacted. */
  parameters: Record<string, unknown>;
  prior_state: Record<string, unknown>;
  resulting_state: Record<string, unknown>;
  /** The kind of object acted on: user, session, team, channel, audit_log... */
  object_type: string;
}

export interface AuditMeta {
  /** The API path (or `cli:<command>` for the command line). */
  api_path: string;
  node_id: string;
}

export interface AuditError {
  id?: string;
  description?: string;
  status_code?: number;
}

/** What callers hand to `recordAudit`. Omitted parts default to empty. */
export interface AuditRecord {
  event_name: string;
  status: AuditStatus;
  actor: Partial<AuditActor>;
  event?: Partial<AuditEvent>;
  meta: Partial<AuditMeta>;
  error?: AuditError | null;
  /** Epoch milliseconds; defaults to now. */
  timestamp?: number;
}

/** A record as stored in the chain, exported and streamed. */
export interface SealedAuditRecord {
  id: string;
  seq: number;
  timestamp: number;
  event_name: string;
  status: AuditStatus;
  actor: AuditActor;
  event: AuditEvent;
  meta: AuditMeta;
  error: AuditError;
}

export const REDACTED = '[redacted]';
const MAX_STRING = 2048;
const MAX_DEPTH = 8;
const MAX_ITEMS = 200;

// Matched against the field name lower-cased with separators removed, at its end: `new_password`,
// `csrf_token`, `client_secret`, `SAMLResponse` are redacted; `token_id` and `description` are not.
const secretSuffixes = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'cookie', 'authorization', 'credential', 'credentials', 'samlresponse', 'mfacode', 'otp', 'tokenhash', 'passwordhash'];

/** True when a field of this name holds a secret that must never reach the audit log. */
export function isSecretField(name: string): boolean {
  const normal = name.toLowerCase().replace(/[-_\s.]/g, '');
  return secretSuffixes.some((suffix) => normal.endsWith(suffix));
}

/**
 * A copy of `value` safe to record: secret fields replaced by "[redacted]", strings made well-formed
 * and capped, depth and list lengths bounded, non-JSON values (functions, bigints, NaN) made strings.
 */
/**
 * Text as a record may hold it: well-formed Unicode without NUL. PostgreSQL cannot turn a JSON
 * "\u0000" into text, so a NUL anywhere in a record (a login id typed by anyone) would make the
 * record's filter fields unreadable; it becomes U+FFFD, as an invalid byte would.
 */
function recordText(value: string): string {
  const text = value.toWellFormed();
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

export function redact(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string': {
      const text = recordText(value);
      return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…[truncated]` : text;
    }
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'object': {
      if (depth >= MAX_DEPTH) return '[too deep]';
      if (value instanceof Date) return value.toISOString();
      if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
      if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => redact(item, depth + 1));
      const out: Record<string, unknown> = {};
      for (const [name, item] of Object.entries(value as Record<string, unknown>).slice(0, MAX_ITEMS)) {
        if (item === undefined) continue;
        out[recordText(name)] = isSecretField(name) ? REDACTED : redact(item, depth + 1);
      }
      return out;
    }
    default:
      return String(value);
  }
}

const text = (v: unknown, max = 256) => (typeof v === 'string' ? recordText(v).slice(0, max) : '');
const object = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (redact(v) as Record<string, unknown>) : {});

const statuses: ReadonlySet<string> = new Set(['success', 'attempt', 'fail']);
const eventName = /^[a-z][a-z0-9_]{0,63}$/;

/** The stored form of a record without its sequence number; throws on a malformed record. */
export function normalizeRecord(input: AuditRecord, now = Date.now()): Omit<SealedAuditRecord, 'seq'> {
  if (!eventName.test(input.event_name)) throw new TypeError(`audit event_name must match ${eventName}`);
  if (!statuses.has(input.status)) throw new TypeError('audit status must be success, attempt or fail');
  const error = input.error ? object(input.error) : {};
  return {
    id: newId(),
    timestamp: Math.trunc(input.timestamp ?? now),
    event_name: input.event_name,
    status: input.status,
    actor: { user_id: text(input.actor.user_id, 64), session_id: text(input.actor.session_id, 64), ip_address: text(input.actor.ip_address, 64), user_agent: text(input.actor.user_agent) },
    event: {
      parameters: object(input.event?.parameters),
      prior_state: object(input.event?.prior_state),
      resulting_state: object(input.event?.resulting_state),
      object_type: text(input.event?.object_type, 64),
    },
    meta: { api_path: text(input.meta.api_path, 512), node_id: text(input.meta.node_id, 64) },
    error: error as AuditError,
  };
}

/** Canonical JSON of a record (RFC 8785): the exact bytes the chain hashes. */
export function recordJson(record: SealedAuditRecord | Omit<SealedAuditRecord, 'seq'>): string {
  return canonicalJson(record);
}

/**
 * The sequence number a stored record claims, read without parsing: in canonical JSON the top-level
 * "seq" member is the last member named "seq" (only "status" and "timestamp" follow it, and quotes
 * inside strings are escaped).
 */
export function embeddedSeq(json: string): number {
  const at = json.lastIndexOf('"seq":');
  if (at < 0) return -1;
  let end = at + 6;
  while (end < json.length && json.charCodeAt(end) >= 48 && json.charCodeAt(end) <= 57) end++;
  return end > at + 6 ? Number(json.slice(at + 6, end)) : -1;
}

// One-shot hashing over a reused buffer: verification hashes every record, and a hash object per call
// costs more than the hashing itself.
let scratch = Buffer.allocUnsafe(16 * 1024);

/** SHA-256(previous hash ‖ record bytes), hashes as hex: one link of the chain (the fast form). */
export function chainHashHex(previousHex: string, json: string): string {
  if (32 + json.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(32 + json.length * 3);
  scratch.write(previousHex, 0, 32, 'hex');
  const length = scratch.write(json, 32, 'utf8');
  return crypto.hash('sha256', scratch.subarray(0, 32 + length), 'hex');
}

/** SHA-256(previous hash ‖ record bytes): one link of the chain. */
export function chainHash(previous: Buffer, json: string): Buffer {
  return Buffer.from(chainHashHex(previous.toString('hex'), json), 'hex');
}

/** The "previous hash" of record 1. */
export const GENESIS_HASH = Buffer.alloc(32);
