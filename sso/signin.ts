import { createSession, type SessionRow } from '../server/auth/sessions.ts';
import { inTransaction } from '../server/db/transaction.ts';
import type { UserRow } from '../server/users/presenter.ts';
import { auditIdentity } from './audit.ts';
import { SsoRefusal, type IdentityDeps } from './deps.ts';
import { setUserGroups, upsertGroups, type ExternalGroup, type GroupSource } from './groups/sync.ts';
import { upsertExternalUser, type ExternalIdentity } from './provision.ts';

/**
 * Provisions or refreshes the account, applies its groups (teams, channels, roles) and opens a session,
 * all in one transaction with the audit record: group membership takes effect at sign-in, not at the
 * next sync. Returns the same session a password login gets.
 */
export async function signInExternal(
  deps: IdentityDeps,
  props: { identity: ExternalIdentity; groups: ExternalGroup[] | undefined; groupSource: GroupSource; sessionProps: Record<string, string>; ipAddress: string; withSession: boolean },
): Promise<{ user: UserRow; session?: SessionRow; token?: string }> {
  return inTransaction(deps.db, async (trx, afterCommit) => {
    const { user, created } = await upsertExternalUser(trx, props.identity);
    if (props.groups) {
      const ids = await upsertGroups(trx, props.groupSource, props.groups);
      await setUserGroups(trx, { events: deps.events, logger: deps.logger }, afterCommit, { userId: user.id, source: props.groupSource, groupIds: [...ids.values()] });
    }
    const fresh = (await trx('users').where({ id: user.id }).first()) as UserRow;
    await auditIdentity(trx, deps.logger, { event: 'sso_login', service: props.identity.service, userId: user.id, ipAddress: props.ipAddress, provisioned: created });
    if (!props.withSession) return { user: fresh };
    const { session, token } = await createSession(trx, { user: fresh, lifetimeMs: deps.sessionPolicy.lifetimeMs, sessionProps: props.sessionProps });
    return { user: fresh, session, token };
  });
}

/** Logs and audits a refused sign-in with its reason; the client only learns that it failed. */
export async function recordRefusal(deps: IdentityDeps, service: string, err: unknown, ipAddress: string): Promise<void> {
  const reason = err instanceof SsoRefusal ? err.reason : `internal error: ${(err as Error)?.message ?? String(err)}`;
  const subject = err instanceof SsoRefusal ? err.subject : undefined;
  await auditIdentity(deps.db, deps.logger, { event: 'sso_login_refused', service, reason, ipAddress, subject });
}
