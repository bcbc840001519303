import type { Knex } from 'knex';
import type { Logger } from '../server/lib/logger.ts';

/** Identity events that belong in the audit log. */
export type IdentityAuditEvent =
  | { event: 'sso_login'; service: string; userId: string; ipAddress: string; provisioned: boolean }
  | { event: 'sso_login_refused'; service: string; reason: string; ipAddress: string; subject?: string }
  | { event: 'group_member_added' | 'group_member_removed'; groupId: string; userId: string; source: string }
  | { event: 'group_sync_added_to_team' | 'group_sync_removed_from_team'; teamId: string; userId: string; groupIds: string[] }
  | { event: 'group_sync_added_to_channel' | 'group_sync_removed_from_channel'; channelId: string; userId: string; groupIds: string[] }
  | { event: 'group_roles_changed'; userId: string; before: string; after: string }
  | { event: 'directory_user_deactivated' | 'directory_user_reactivated'; userId: string; source: string }
  | { event: 'directory_sync'; source: string; trigger: string; counts: Record<string, number>; status: string };

/**
 * The single call site for identity audit records (sign-ins, refusals, group-sync changes). It runs in
 * the caller's transaction when there is one, so the record commits or rolls back with the change.
 *
 * AUDIT HOOK: the tamper-evident audit module (audit/) is being built concurrently and exports no
 * `recordAudit` yet. Until it does, events go to the structured log (`audit: true`). When it lands,
 * replace the body with `await recordAudit(trx, …)` — every identity event already passes through here.
 */
export async function auditIdentity(_trx: Knex | Knex.Transaction | undefined, logger: Logger, record: IdentityAuditEvent): Promise<void> {
  const level = record.event === 'sso_login_refused' ? 'warn' : 'info';
  logger[level]({ audit: true, ...record }, `identity: ${record.event}`);
}
