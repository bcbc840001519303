import type { Context } from 'koa';
import type { SessionRow } from '../auth/sessions.ts';
import type { UserRow } from '../users/presenter.ts';
import { CSRF_COOKIE, SESSION_COOKIE, USER_COOKIE } from './authenticate.ts';
import { setCookies } from './cookies.ts';

/**
 * Hands a new session to the client the way Mattermost does after any login (password, LDAP, SAML,
 * OIDC): the token in the `Token` header and the MMAUTHTOKEN (HttpOnly), MMUSERID and MMCSRF cookies.
 */
export function sendSessionCredentials(
  ctx: Context,
  options: { secureCookies: boolean; lifetimeMs: number },
  login: { user: UserRow; session: SessionRow; token: string },
): void {
  const maxAgeSeconds = Math.floor(options.lifetimeMs / 1000);
  const secure = options.secureCookies;
  setCookies(ctx, [
    { name: SESSION_COOKIE, value: login.token, options: { httpOnly: true, secure, maxAgeSeconds } },
    { name: USER_COOKIE, value: login.user.id, options: { httpOnly: false, secure, maxAgeSeconds } },
    { name: CSRF_COOKIE, value: login.session.csrf_token, options: { httpOnly: false, secure, maxAgeSeconds } },
  ]);
  ctx.set('Token', login.token);
  ctx.set('Access-Control-Expose-Headers', 'Token, X-Request-Id');
}
