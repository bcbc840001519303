import type { Knex } from 'knex';
import { UnauthenticatedError } from '../lib/errors.ts';
import type { UserRow } from '../users/presenter.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { verifyPassword } from './passwords.ts';
import { createSession, type SessionRow } from './sessions.ts';

export interface PasswordLoginInput {
  loginId: string;
  password: string;
  deviceId?: string;
  ipAddress: string;
  /** Mattermost's `ldap_only`: check the credentials against the directory only. */
  ldapOnly?: boolean;
}

/**
 * A directory (LDAP) sign-in: binds as the user and returns their provisioned, up-to-date row, or
 * undefined when the directory does not know the login id or refuses the password.
 */
export type DirectoryLogin = (credentials: { loginId: string; password: string; ipAddress: string }) => Promise<UserRow | undefined>;

const badCredentials = () => new UnauthenticatedError('api.user.login.invalid_credentials_email_username', 'Enter a valid email or username and/or password.');

/**
 * Password login: throttled, constant-effort whether or not the account exists, refusing deactivated
 * users, bots and SSO accounts that have no local password. Returns a new session and its token.
 */
export async function passwordLogin(
  deps: {
    db: Knex; throttle: LoginThrottle; lifetimeMs: number; disableLocalLoginForSso?: boolean; directory?: DirectoryLogin;
    /** Runs in the transaction that creates the session (the sign-in's audit record). */
    onSession?: (trx: Knex.Transaction, login: { user: UserRow; session: SessionRow }) => Promise<void>;
  },
  input: PasswordLoginInput,
): Promise<{ user: UserRow; session: SessionRow; token: string }> {
  await deps.throttle.check(input.loginId, input.ipAddress);
  const login = input.loginId.trim().toLowerCase();
  let user = (await deps.db('users')
    .whereRaw('lower(username) = ?', [login])
    .orWhereRaw('lower(email) = ?', [login])
    .first()) as UserRow | undefined;
  // Directory accounts (and unknown login ids, which may be directory users not yet provisioned)
  // are checked by binding to the directory; local accounts by their password hash.
  const viaDirectory = deps.directory && (input.ldapOnly || !user || user.auth_service === 'ldap');
  let ok: boolean;
  if (viaDirectory) {
    user = await deps.directory!({ loginId: input.loginId, password: input.password, ipAddress: input.ipAddress });
    ok = user !== undefined;
  } else {
    ok = await verifyPassword(input.password, user?.password_hash);
  }
  if (!user || !ok || user.is_bot) {
    await deps.throttle.recordFailure(input.loginId, input.ipAddress);
    throw badCredentials();
  }
  if (!viaDirectory && user.auth_service && deps.disableLocalLoginForSso) {
    await deps.throttle.recordFailure(input.loginId, input.ipAddress);
    throw new UnauthenticatedError('api.user.login.use_auth_service.app_error', `Please sign in using ${user.auth_service}.`);
  }
  if (user.delete_at > 0) {
    throw new UnauthenticatedError('api.user.login.inactive.app_error', 'Login failed because your account has been deactivated. Please contact an administrator.');
  }
  await deps.throttle.recordSuccess(input.loginId);
  const { session, token } = await deps.db.transaction(async (trx) => {
    const created = await createSession(trx, { user: user!, lifetimeMs: deps.lifetimeMs, deviceId: input.deviceId });
    // The audit record of the sign-in commits with the session, or neither does.
    await deps.onSession?.(trx, { user: user!, session: created.session });
    return created;
  });
  return { user, session, token };
}
