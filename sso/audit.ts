import type { Knex } from 'knex';
import type { Logger } from '../server/lib/logger.ts';
import { recordAudit } from '../audit/index.ts';

/** Identity events that belong in the audit log. */
export type IdentityAuditEvent =
  | { event: 'sso_login'; service: string; userId: string; ipAddress: string; provisioned: boolean }
  | { event: 'sso_login_refused'; service: string; reason: string; ipAddress: string; subject?: string }
  | { event: 'group_member_added' | 'group_member_removed'; groupId: string; userId: string; source: string }
  | { event: 'group_sync_added_to_team' | 'group_sync_removed_from_team'; teamId: string; userId: string; groupIds: string[] }
  | { event: 'group_sync_added_to_channel' | 'group_sync_removed_from_channel'; channelId: string; userId: string; groupIds: string[] }
  | { event: 'group_roles_changed'; userId: string; before: string; after: string }
  | { event: 'directory_user_deactivated' | 'directory_user_reactivated'; userId: string; source: string }
  | { event: 'directory_sync'; source: string; trigger: string; counts: Record<string, number>; status: string; error?: string };

const objectTypes: Record<IdentityAuditEvent['event'], string> = {
  sso_login: 'session', sso_login_refused: 'session', group_member_added: 'group_member', group_member_removed: 'group_member',
  group_sync_added_to_team: 'team_member', group_sync_removed_from_team: 'team_member', group_sync_added_to_channel: 'channel_member',
  group_sync_removed_from_channel: 'channel_member', group_roles_changed: 'user', directory_user_deactivated: 'user', directory_user_reactivated: 'user',
  directory_sync: 'directory_sync',
};

/**
 * The single call site for identity audit records (sign-ins, refusals, group-sync changes): written to
 * the tamper-evident audit log (audit/) in the caller's transaction, so the record commits or rolls
 * back with the change and a failed audit write fails the action. Also logged, for operators.
 */
export async function auditIdentity(db: Knex | Knex.Transaction, logger: Logger, record: IdentityAuditEvent): Promise<void> {
  // Refused sign-ins and failed syncs are failures, with their reason.
  const failure = record.event === 'sso_login_refused' ? record.reason : record.event === 'directory_sync' && record.status === 'error' ? record.error ?? '' : undefined;
  const failed = failure !== undefined;
  const { event, ...details } = record;
  const userId = 'userId' in record ? record.userId : '';
  const ipAddress = 'ipAddress' in record ? record.ipAddress : '';
  await recordAudit(db, {
    event_name: event,
    status: failed ? 'fail' : 'success',
    actor: { user_id: userId, ip_address: ipAddress },
    event: { object_type: objectTypes[event], parameters: details },
    meta: { api_path: `identity:${'service' in record ? record.service : 'source' in record ? record.source : 'groups'}` },
    error: failed ? { description: failure } : null,
  });
  logger[failed ? 'warn' : 'info']({ audit: true, ...record }, `identity: ${event}`);
}
