import type { Knex } from 'knex';
import { forgetCachedSessions } from '../server/auth/sessions.ts';
import { nowMs } from '../server/lib/clock.ts';
import type { UserRow } from '../server/users/presenter.ts';
import { createUser } from '../server/users/service.ts';
import { emailSchema, usernameSchema } from '../server/users/validation.ts';
import { SsoRefusal, type SsoService } from './deps.ts';

/** What an identity provider says about a user, already mapped from its attributes or claims. */
export interface ExternalIdentity {
  service: SsoService;
  /** Stable id at the provider: SAML NameID/id attribute, OIDC `iss` + `sub`, LDAP entryUUID. */
  authData: string;
  email: string;
  username: string;
  firstName?: string;
  lastName?: string;
  /** Set only when the provider is configured to decide it. */
  admin?: boolean;
  guest?: boolean;
}

/** Turns a provider's user name into one Mattermost accepts (a letter, then a-z 0-9 . - _). */
export function toUsername(raw: string): string {
  let name = raw.trim().toLowerCase().replace(/@.*$/, '').replace(/[^a-z0-9._-]/g, '-');
  if (!/^[a-z]/.test(name)) name = `u${name}`;
  return name.slice(0, 64).padEnd(3, '0');
}

function withRole(roles: string, role: string, on: boolean | undefined): string {
  if (on === undefined) return roles;
  const set = new Set(roles.split(/\s+/).filter(Boolean));
  if (on) set.add(role);
  else set.delete(role);
  if (role === 'system_guest' && on) {
    set.delete('system_user');
    set.delete('system_admin');
  }
  if (role === 'system_guest' && !on && !set.has('system_user')) set.add('system_user');
  return [...set].join(' ');
}

/**
 * Finds the account an external identity belongs to, by (auth_service, auth_data) only — never by
 * email, so a provider asserting someone else's address cannot take over their account — creating it
 * on first sign-in (just-in-time provisioning) and refreshing its profile afterwards. A deactivated
 * account stays deactivated unless `reactivate` (directory sync) says otherwise.
 */
export async function upsertExternalUser(trx: Knex.Transaction, identity: ExternalIdentity, options: { reactivate?: boolean } = {}): Promise<{ user: UserRow; created: boolean }> {
  const email = emailSchema.safeParse(identity.email);
  if (!email.success) throw new SsoRefusal('the provider sent no valid email address', identity.authData);
  const username = usernameSchema.safeParse(toUsername(identity.username || identity.email));
  if (!username.success) throw new SsoRefusal(`the provider's user name cannot be used (${username.error.issues[0].message})`, identity.authData);
  const existing = (await trx('users').where({ auth_service: identity.service, auth_data: identity.authData }).forUpdate().first()) as UserRow | undefined;
  const clash = await trx('users')
    .where((q) => q.whereRaw('lower(username) = ?', [username.data]).orWhereRaw('lower(email) = ?', [email.data]))
    .modify((q) => (existing ? q.whereNot({ id: existing.id }) : q))
    .first('id', 'username', 'email', 'auth_service');
  if (clash) {
    const field = clash.email.toLowerCase() === email.data ? 'email' : 'username';
    throw new SsoRefusal(`the ${field} belongs to another account (${clash.auth_service || 'local'}); an administrator must link or rename it`, identity.authData);
  }
  if (!existing) {
    let roles = 'system_user';
    roles = withRole(roles, 'system_admin', identity.admin);
    roles = withRole(roles, 'system_guest', identity.guest);
    const user = await createUser(trx, {
      email: email.data, username: username.data, first_name: (identity.firstName ?? '').slice(0, 64), last_name: (identity.lastName ?? '').slice(0, 64),
      auth_service: identity.service, auth_data: identity.authData, roles,
    });
    return { user, created: true };
  }
  if (existing.delete_at > 0 && !options.reactivate) throw new SsoRefusal('the account is deactivated', identity.authData);
  let roles = withRole(existing.roles, 'system_admin', identity.admin);
  roles = withRole(roles, 'system_guest', identity.guest);
  const patch = {
    email: email.data, username: username.data, first_name: (identity.firstName ?? existing.first_name).slice(0, 64),
    last_name: (identity.lastName ?? existing.last_name).slice(0, 64), roles, delete_at: options.reactivate ? 0 : existing.delete_at,
  };
  const changed = (Object.keys(patch) as (keyof typeof patch)[]).some((k) => patch[k] !== existing[k]);
  if (!changed) return { user: existing, created: false };
  const [user] = (await trx('users').where({ id: existing.id }).update({ ...patch, update_at: nowMs() }).returning('*')) as UserRow[];
  if (roles !== existing.roles) await trx('sessions').where({ user_id: existing.id }).update({ roles });
  // Again once committed: a request between now and the COMMIT could cache the row as it was.
  forgetCachedSessions(existing.id);
  trx.executionPromise.then(() => forgetCachedSessions(existing.id), () => undefined);
  return { user, created: false };
}
