import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { postColumns } from '../posts/model.ts';
import { presentUser } from '../users/presenter.ts';
import { visibleUsersByIds } from '../users/queries.ts';
import type { ThreadTotals, UserThreadRow } from './model.ts';

/** Mattermost's GetUserThreadsOpts, as the list endpoint reads them. */
export interface ThreadListOptions {
  perPage: number;
  /** Threads whose membership or replies changed at or after this time. */
  since?: number;
  /** Cursors: threads whose last reply is older (before) or newer (after) than this thread's. */
  before?: string;
  after?: string;
  /** Include threads whose root was deleted. */
  deleted: boolean;
  /** Only threads with replies newer than the user's last view. */
  unread: boolean;
}

/**
 * Followed threads joined to their channel and to the follower's membership in it; from their first
 * reply on, unless `withoutReplies` (a thread whose last reply was just deleted).
 */
function memberThreads(db: Knex | Knex.Transaction, deleted: boolean, withoutReplies = false): Knex.QueryBuilder {
  const query = db('thread_memberships as m')
    .join('posts as p', 'p.id', 'm.post_id')
    .join('channels as c', 'c.id', 'p.channel_id')
    .join('channel_members as cm', (j) => j.on('cm.channel_id', 'c.id').andOn('cm.user_id', 'm.user_id'))
    .where('m.following', true);
  if (!withoutReplies) query.where('p.last_reply_at', '>', 0);
  if (!deleted) query.where('p.delete_at', 0);
  return query;
}

/**
 * The threads `userId` follows in `teamId` (and in direct and group messages, which have no team),
 * limited to channels they are still a member of: leaving a channel hides its threads, as Mattermost
 * drops those memberships.
 */
function followedThreads(db: Knex | Knex.Transaction, userId: string, teamId: string, deleted: boolean): Knex.QueryBuilder {
  return memberThreads(db, deleted).where('m.user_id', userId).whereIn('c.team_id', [teamId, '']);
}

function selectUserThread(db: Knex | Knex.Transaction, query: Knex.QueryBuilder): Knex.QueryBuilder {
  return query.select(
    ...postColumns.map((c) => `p.${c}`),
    'c.team_id', 'm.following', 'm.last_viewed', 'm.last_updated', 'm.unread_mentions',
    // Served by posts_root_id (root_id, create_at).
    db.raw('(SELECT count(*)::int FROM posts r WHERE r.root_id = p.id AND r.create_at > m.last_viewed AND r.delete_at = 0) AS unread_replies'),
  );
}

/** One page of the user's followed threads, newest reply first (oldest first when paging `after`). */
export async function listUserThreads(db: Knex | Knex.Transaction, userId: string, teamId: string, opts: ThreadListOptions): Promise<UserThreadRow[]> {
  const query = followedThreads(db, userId, teamId, opts.deleted);
  if (opts.since !== undefined && opts.since > 0) query.where((q) => q.where('m.last_updated', '>=', opts.since!).orWhere('p.last_reply_at', '>=', opts.since!));
  if (opts.unread) query.whereRaw('m.last_viewed < p.last_reply_at');
  if (opts.before) query.where('p.last_reply_at', '<', db('posts').where({ id: opts.before }).select('last_reply_at'));
  if (opts.after) query.where('p.last_reply_at', '>', db('posts').where({ id: opts.after }).select('last_reply_at'));
  const direction = opts.after ? 'asc' : 'desc';
  return (await selectUserThread(db, query).orderBy([{ column: 'p.last_reply_at', order: direction }, { column: 'p.id', order: direction }]).limit(opts.perPage)) as UserThreadRow[];
}

/** The totals Mattermost shows with the list: followed threads, unread threads, unread mentions. */
export async function userThreadTotals(db: Knex | Knex.Transaction, userId: string, teamId: string, deleted: boolean): Promise<ThreadTotals> {
  const row = await followedThreads(db, userId, teamId, deleted)
    .first(
      db.raw('count(*)::int AS total'),
      db.raw('(count(*) FILTER (WHERE m.last_viewed < p.last_reply_at))::int AS total_unread_threads'),
      db.raw('COALESCE(sum(m.unread_mentions), 0)::int AS total_unread_mentions'),
    );
  return row as ThreadTotals;
}

/** One followed thread of the user, or undefined when they do not follow it or cannot see it. */
export async function loadUserThread(db: Knex | Knex.Transaction, userId: string, teamId: string, threadId: string): Promise<UserThreadRow | undefined> {
  return (await selectUserThread(db, followedThreads(db, userId, teamId, true).where('p.id', threadId)).first()) as UserThreadRow | undefined;
}

/** A thread as each of its followers sees it (followers still in the channel only). */
export async function threadForFollowers(db: Knex | Knex.Transaction, threadId: string, withoutReplies = false): Promise<(UserThreadRow & { follower_id: string })[]> {
  return (await selectUserThread(db, memberThreads(db, false, withoutReplies).where('p.id', threadId)).select('m.user_id as follower_id')) as (UserThreadRow & { follower_id: string })[];
}

/**
 * Each thread's participants (users with a live reply), the most recent replier last: bare ids, as
 * Mattermost sends them, or with `extendedFor`, the users that actor may see.
 */
export async function threadParticipants(db: Knex | Knex.Transaction, threadIds: string[], extendedFor?: Actor): Promise<Map<string, Record<string, unknown>[]>> {
  const result = new Map<string, Record<string, unknown>[]>(threadIds.map((id) => [id, []]));
  if (threadIds.length === 0) return result;
  const rows = (await db('posts')
    .select('root_id', 'user_id')
    .whereIn('root_id', threadIds)
    .where('delete_at', 0)
    .groupBy('root_id', 'user_id')
    .orderByRaw('root_id, max(create_at)')) as { root_id: string; user_id: string }[];
  const users = new Map<string, Record<string, unknown>>();
  if (extendedFor && rows.length) {
    const ids = [...new Set(rows.map((r) => r.user_id))];
    for (const user of await visibleUsersByIds(db as Knex, extendedFor, ids)) users.set(user.id, presentUser(user, extendedFor));
  }
  for (const row of rows) {
    const participant = extendedFor ? users.get(row.user_id) : { id: row.user_id };
    if (participant) result.get(row.root_id)!.push(participant);
  }
  return result;
}
