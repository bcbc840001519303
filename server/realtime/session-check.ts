import type { Knex } from 'knex';
import { systemRolesOf } from '../auth/actor.ts';
import type { SessionPolicy } from '../auth/sessions.ts';

const CHUNK = 1000;

export interface LiveSession {
  expiresAt: number;
  /** The user holds system_admin now, directly or through a group. */
  systemAdmin: boolean;
}

/**
 * Which of `sessionIds` are still good, the same rules `resolveToken` applies (not expired, not idle,
 * user active, personal access token still active), checked in a few batched queries instead of one
 * per socket. Returns each live session's `expires_at` and its user's standing.
 */
export async function liveSessions(db: Knex, sessionIds: string[], policy: SessionPolicy, now: number): Promise<Map<string, LiveSession>> {
  const live = new Map<string, LiveSession>();
  for (let i = 0; i < sessionIds.length; i += CHUNK) {
    const query = db('sessions as s')
      .join('users as u', 'u.id', 's.user_id')
      .whereIn('s.id', sessionIds.slice(i, i + CHUNK))
      .where('u.delete_at', 0)
      .where('s.expires_at', '>', now)
      .where((q) =>
        q.whereNull('s.access_token_id').orWhereExists((sub) => sub.select(db.raw('1')).from('user_access_tokens as t').whereRaw('t.id = s.access_token_id').where('t.is_active', true)),
      )
      .select('s.id', 's.expires_at', 'u.roles', 'u.group_roles');
    if (policy.idleTimeoutMs > 0) query.where((q) => q.whereNotNull('s.access_token_id').orWhere('s.last_activity_at', '>=', now - policy.idleTimeoutMs));
    const rows: { id: string; expires_at: number; roles: string; group_roles: string | null }[] = await query;
    for (const row of rows) live.set(row.id, { expiresAt: row.expires_at, systemAdmin: systemRolesOf(row).has('system_admin') });
  }
  return live;
}
