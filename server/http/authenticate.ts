import type { Middleware } from 'koa';
import type { Knex } from 'knex';
import { systemRolesOf, type Actor } from '../auth/actor.ts';
import { resolveToken, type SessionPolicy, type SessionRow } from '../auth/sessions.ts';
import { UnauthenticatedError } from '../lib/errors.ts';
import type { UserRow } from '../users/presenter.ts';
import type { AppState } from './state.ts';

export const SESSION_COOKIE = 'MMAUTHTOKEN';
export const USER_COOKIE = 'MMUSERID';
export const CSRF_COOKIE = 'MMCSRF';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthDeps {
  db: Knex;
  sessionPolicy: SessionPolicy;
  strictCsrf: boolean;
}

interface Credential {
  token: string;
  via: Actor['via'];
}

/** Finds the credential a request carries: Authorization header, then cookie, then (GET only) ?access_token. */
export function credentialOf(ctx: { get(h: string): string; cookies: { get(n: string): string | undefined }; method: string; query: Record<string, unknown> }): Credential | undefined {
  const header = ctx.get('Authorization');
  const match = /^(bearer|token)\s+(\S+)$/i.exec(header);
  if (match) return { token: match[2], via: 'bearer' };
  const cookie = ctx.cookies.get(SESSION_COOKIE);
  if (cookie) return { token: cookie, via: 'cookie' };
  const query = ctx.query.access_token;
  if (typeof query === 'string' && safeMethods.has(ctx.method)) return { token: query, via: 'query' };
  return undefined;
}

export function actorFrom(session: SessionRow, user: UserRow, via: Actor['via'], ipAddress: string, userAgent: string): Actor {
  return {
    userId: user.id,
    username: user.username,
    sessionId: session.id,
    roles: systemRolesOf(user),
    isBot: user.is_bot,
    via: session.access_token_id ? 'access_token' : via,
    ipAddress,
    userAgent,
  };
}

function sessionExpired(detail: string): UnauthenticatedError {
  return new UnauthenticatedError('api.context.session_expired.app_error', 'Invalid or expired session, please login again.', detail);
}

/**
 * Requires a valid session and sets `ctx.state.actor`. Cookie-authenticated writes must carry the
 * session's CSRF token in X-CSRF-Token (or, unless strict, Mattermost's legacy X-Requested-With).
 */
export function authenticate(deps: AuthDeps): Middleware<AppState> {
  return async (ctx, next) => {
    const credential = credentialOf(ctx);
    if (!credential) throw new UnauthenticatedError('api.context.session_expired.app_error', 'Invalid or expired session, please login again.', 'no token');
    const resolved = await resolveToken(deps.db, credential.token, deps.sessionPolicy);
    if (!resolved) throw sessionExpired('token not valid');
    if (credential.via === 'cookie' && !safeMethods.has(ctx.method)) {
      const csrf = ctx.get('X-CSRF-Token');
      const legacy = !deps.strictCsrf && ctx.get('X-Requested-With') === 'XMLHttpRequest';
      if (csrf !== resolved.session.csrf_token && !legacy) throw sessionExpired('CSRF token missing or wrong');
    }
    ctx.state.actor = actorFrom(resolved.session, resolved.user, credential.via, ctx.ip, ctx.get('User-Agent').slice(0, 256));
    ctx.state.user = resolved.user;
    await next();
  };
}

/** The actor set by `authenticate`; throws when a route forgot to authenticate. */
export function actorOf(state: AppState): Actor {
  if (!state.actor) throw new UnauthenticatedError('api.context.session_expired.app_error', 'Invalid or expired session, please login again.');
  return state.actor;
}
