import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { can } from '../auth/policy.ts';
import { prepared } from '../db/prepared.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { UserRow } from './presenter.ts';
import { userRowCache } from './user-cache.ts';

/** Users the actor may see: everyone with view_members; otherwise (guests) themself and channel-mates. */
export function visibleUsers(db: Knex, actor: Actor): Knex.QueryBuilder {
  const query = db('users').select('users.*');
  if (can(actor, 'view_members', { kind: 'system' })) return query;
  return query.where((q) =>
    q.where('users.id', actor.userId).orWhereIn(
      'users.id',
      db('channel_members as theirs')
        .join('channel_members as mine', 'mine.channel_id', 'theirs.channel_id')
        .where('mine.user_id', actor.userId)
        .select('theirs.user_id'),
    ),
  );
}

/**
 * `visibleUsers` restricted to `ids`. Clients ask for the authors of every page they show, so the
 * common case (view_members) is served from the user row cache, then fixed SQL text.
 */
export async function visibleUsersByIds(db: Knex, actor: Actor, ids: string[]): Promise<UserRow[]> {
  if (can(actor, 'view_members', { kind: 'system' })) return userRowCache.byIds(ids, async (missing) => (await db.raw('SELECT * FROM users WHERE id = ANY(?)', [missing]).options(prepared('users_by_ids'))).rows);
  return visibleUsers(db, actor).whereIn('users.id', ids);
}

export async function findVisibleUser(db: Knex, actor: Actor, where: (q: Knex.QueryBuilder) => void): Promise<UserRow> {
  const query = visibleUsers(db, actor);
  where(query);
  const row = (await query.first()) as UserRow | undefined;
  if (!row) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  return row;
}
