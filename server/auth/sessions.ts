import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { newId, newToken } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { UserRow } from '../users/presenter.ts';
import { prepared } from '../db/prepared.ts';
import { sessionActivity } from './session-activity.ts';
import { sessionCache } from './session-cache.ts';

export interface SessionRow {
  id: string;
  token_hash: string;
  user_id: string;
  create_at: number;
  expires_at: number;
  last_activity_at: number;
  device_id: string;
  roles: string;
  csrf_token: string;
  is_oauth: boolean;
  access_token_id: string | null;
  props: Record<string, string>;
}

export interface SessionPolicy {
  lifetimeMs: number;
  idleTimeoutMs: number;
}

/** Only a SHA-256 of a bearer token is stored or compared. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/** Starts a session: a fresh random token (returned once) and CSRF token. */
export async function createSession(
  db: Knex | Knex.Transaction,
  props: { user: UserRow; lifetimeMs: number; deviceId?: string; accessTokenId?: string; sessionProps?: Record<string, string> },
): Promise<{ session: SessionRow; token: string }> {
  const token = newToken();
  const now = nowMs();
  const session: SessionRow = {
    id: newId(),
    token_hash: hashToken(token),
    user_id: props.user.id,
    create_at: now,
    expires_at: now + props.lifetimeMs,
    last_activity_at: now,
    device_id: props.deviceId ?? '',
    roles: props.user.roles,
    csrf_token: newToken(),
    is_oauth: false,
    access_token_id: props.accessTokenId ?? null,
    props: props.sessionProps ?? {},
  };
  await db('sessions').insert(session);
  return { session, token };
}

// Recording last_activity_at on every request would turn every read into a write; once a minute is
// precise enough for idle timeouts measured in minutes, and the writes are batched (session-activity.ts).
const ACTIVITY_RESOLUTION_MS = 60_000;
// Sessions made from personal access tokens last until the token is revoked.
const ACCESS_TOKEN_SESSION_MS = 100 * 365 * 24 * 3600 * 1000;

function isIdle(session: SessionRow, policy: SessionPolicy, now: number): boolean {
  return policy.idleTimeoutMs > 0 && !session.access_token_id && now - session.last_activity_at > policy.idleTimeoutMs;
}

/** Notes that the session was used now, at most once a minute; written after the response. */
function recordActivity(db: Knex, session: SessionRow, now: number): void {
  if (now - session.last_activity_at <= ACTIVITY_RESOLUTION_MS) return;
  session.last_activity_at = now;
  sessionActivity.record(db, session.id, now);
}

/**
 * Resolves a bearer token to its live session and active user, or undefined. Expired and idle
 * sessions are deleted as they are found. A personal access token gets a session on first use.
 */
export async function resolveToken(db: Knex, token: string, policy: SessionPolicy): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  if (!token || token.length > 128) return undefined;
  const tokenHash = hashToken(token);
  const cached = sessionCache.get(tokenHash, nowMs());
  if (cached) {
    const now = nowMs();
    // Looks idle from here: the database decides (another node may have seen later activity).
    if (!isIdle(cached.session, policy, now)) {
      recordActivity(db, cached.session, now);
      return cached;
    }
    sessionCache.forgetQuietly({ tokenHash });
  }
  // One round trip on the hottest path of all: the session and its user together.
  const { rows } = await db.raw('SELECT s.*, to_jsonb(u) AS user_row FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?', [tokenHash]).options(prepared('session_by_token'));
  if (rows.length === 0) return resolveAccessToken(db, tokenHash);
  const { user_row: user, ...session } = rows[0] as SessionRow & { user_row: UserRow };
  const now = nowMs();
  if (session.expires_at <= now || isIdle(session, policy, now)) {
    await revokeSession(db, session.id);
    return undefined;
  }
  if (user.delete_at > 0) return undefined;
  recordActivity(db, session, now);
  sessionCache.set(tokenHash, session, user, now);
  return { session, user };
}

async function resolveAccessToken(db: Knex, tokenHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const pat = await db('user_access_tokens').where({ token_hash: tokenHash, is_active: true }).first();
  if (!pat) return undefined;
  const user = (await db('users').where({ id: pat.user_id, delete_at: 0 }).first()) as UserRow | undefined;
  if (!user) return undefined;
  const now = nowMs();
  const session: SessionRow = {
    id: newId(),
    token_hash: tokenHash,
    user_id: user.id,
    create_at: now,
    expires_at: now + ACCESS_TOKEN_SESSION_MS,
    last_activity_at: now,
    device_id: '',
    roles: user.roles,
    csrf_token: newToken(),
    is_oauth: false,
    access_token_id: pat.id,
    props: { type: 'UserAccessToken' },
  };
  // Two first uses at once race to create the session; the loser reads the winner's row.
  await db('sessions').insert(session).onConflict('token_hash').ignore();
  const stored = (await db('sessions').where({ token_hash: tokenHash }).first()) as SessionRow;
  return { session: stored, user };
}

export async function revokeSession(db: Knex | Knex.Transaction, sessionId: string): Promise<void> {
  await db('sessions').where({ id: sessionId }).delete();
  sessionCache.forgetSession(sessionId);
}

/** Ends the session a bearer token opened (logout); returns its id when there was one. */
export async function revokeToken(db: Knex | Knex.Transaction, token: string): Promise<string | undefined> {
  const tokenHash = hashToken(token);
  const [gone] = (await db('sessions').where({ token_hash: tokenHash }).whereNull('access_token_id').delete().returning('id')) as { id: string }[];
  sessionCache.forgetToken(tokenHash);
  return gone?.id;
}

/** Ends the sessions opened with a personal access token (revoked or disabled token). */
export async function revokeAccessTokenSessions(db: Knex | Knex.Transaction, accessTokenId: string): Promise<void> {
  const gone = (await db('sessions').where({ access_token_id: accessTokenId }).delete().returning('id')) as { id: string }[];
  for (const { id } of gone) sessionCache.forgetSession(id);
}

/** Drops cached copies of a user's sessions after their roles or status changed. */
export function forgetCachedSessions(userId: string): void {
  sessionCache.forgetUser(userId);
}

/** Ends every session of a user (deactivation, password change, admin action). */
export async function revokeAllSessions(db: Knex | Knex.Transaction, userId: string): Promise<number> {
  const count = await db('sessions').where({ user_id: userId }).delete();
  sessionCache.forgetUser(userId);
  return count;
}
