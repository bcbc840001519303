import type { Knex } from 'knex';
import type { SessionPolicy } from '../auth/sessions.ts';

const CHUNK = 1000;

/**
 * Which of `sessionIds` are still good, the same rules `resolveToken` applies (not expired, not idle,
 * user active, personal access token still active), checked in a few batched queries instead of one
 * per socket. Returns each live session's `expires_at`.
 */
export async function liveSessions(db: Knex, sessionIds: string[], policy: SessionPolicy, now: number): Promise<Map<string, number>> {
  const live = new Map<string, number>();
  for (let i = 0; i < sessionIds.length; i += CHUNK) {
    const query = db('sessions as s')
      .join('users as u', 'u.id', 's.user_id')
      .whereIn('s.id', sessionIds.slice(i, i + CHUNK))
      .where('u.delete_at', 0)
      .where('s.expires_at', '>', now)
      .where((q) =>
        q.whereNull('s.access_token_id').orWhereExists((sub) => sub.select(db.raw('1')).from('user_access_tokens as t').whereRaw('t.id = s.access_token_id').where('t.is_active', true)),
      )
      .select('s.id', 's.expires_at');
    if (policy.idleTimeoutMs > 0) query.where((q) => q.whereNotNull('s.access_token_id').orWhere('s.last_activity_at', '>=', now - policy.idleTimeoutMs));
    const rows: { id: string; expires_at: number }[] = await query;
    for (const row of rows) live.set(row.id, row.expires_at);
  }
  return live;
}
