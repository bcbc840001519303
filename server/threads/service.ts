import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { authorizeChannel, type ChannelAccess } from '../channels/access.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import { postColumns, type PostRow } from '../posts/model.ts';
import { channelWideMentions, extractMentions } from '../posts/text.ts';
import type { EventBus } from '../realtime/events.ts';
import { presentUserThread, type UserThreadRow } from './model.ts';
import { loadUserThread, threadParticipants } from './queries.ts';

/** A thread's root, with the actor's access to its channel. */
export interface ThreadAccess {
  root: PostRow;
  access: ChannelAccess;
}

const threadNotFound = () => new NotFoundError('app.user.get_threads_for_user.not_found', 'Thread not found or not followed.');

/**
 * Loads a thread's root for the actor: 404 unless it is a live root post of `teamId` (or of a direct
 * or group message), 403 unless the actor may read the channel and is a member of it (threads are
 * followed from the channels one belongs to).
 */
export async function loadThreadAccess(db: Knex | Knex.Transaction, actor: Actor, teamId: string, threadId: string): Promise<ThreadAccess> {
  const root = (await db('posts').where({ id: threadId }).first(postColumns)) as PostRow | undefined;
  if (!root || root.root_id !== '' || root.delete_at > 0) throw threadNotFound();
  const access = await authorizeChannel(db, actor, root.channel_id, 'read_channel');
  if (!access.channelMember) throw new ForbiddenError('api.thread.channel_member.app_error', 'Only members of the channel can follow its threads.');
  if (access.channel.team_id !== teamId && access.channel.team_id !== '') throw threadNotFound();
  return { root, access };
}

/** Publishes a thread event to one user's sessions, with the team the client files it under. */
function toUser(events: EventBus, event: string, userId: string, teamId: string, data: Record<string, unknown>): void {
  events.publish({ event, data, broadcast: { user_id: userId, team_id: teamId } });
}

/** Starts or stops following a thread. Following again marks it read, as in Mattermost. */
export async function setFollowing(db: Knex | Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, teamId: string, thread: ThreadAccess, state: boolean): Promise<void> {
  const now = nowMs();
  await db.raw(
    `INSERT INTO thread_memberships (user_id, post_id, following, last_viewed, last_updated, unread_mentions)
     VALUES (:user_id, :post_id, :state, CASE WHEN :state THEN :now::bigint ELSE 0 END, :now, 0)
     ON CONFLICT (user_id, post_id) DO UPDATE SET following = excluded.following, last_updated = excluded.last_updated,
       last_viewed = CASE WHEN excluded.following THEN excluded.last_viewed ELSE thread_memberships.last_viewed END,
       unread_mentions = CASE WHEN excluded.following THEN 0 ELSE thread_memberships.unread_mentions END`,
    { user_id: actor.userId, post_id: thread.root.id, state, now },
  );
  afterCommit(() => toUser(events, 'thread_follow_changed', actor.userId, teamId, { thread_id: thread.root.id, state, reply_count: thread.root.reply_count }));
}

/**
 * Mentions of `username` in the thread's replies after `since` by others: explicit @name, @all,
 * @channel, @here, and every reply in a direct message. The same rule the post insert counts by.
 */
async function countThreadMentions(db: Knex | Knex.Transaction, thread: ThreadAccess, userId: string, since: number): Promise<number> {
  const replies = (await db('posts').select('message').where({ root_id: thread.root.id, delete_at: 0 }).where('create_at', '>', since).whereNot({ user_id: userId })) as { message: string }[];
  if (thread.access.channel.type === 'D') return replies.length;
  const user = (await db('users').where({ id: userId }).first('username')) as { username: string } | undefined;
  const name = user?.username.toLowerCase() ?? '';
  let count = 0;
  for (const { message } of replies) {
    const names = extractMentions(message);
    if (names.has(name) || [...names].some((n) => channelWideMentions.has(n))) count++;
  }
  return count;
}

/**
 * Moves the actor's read position in a followed thread to `timestamp` (forwards or back: marking
 * unread moves it back) and recounts the unread mentions after it. Returns the thread as the user
 * now sees it.
 */
export async function markThreadRead(trx: Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, teamId: string, thread: ThreadAccess, timestamp: number): Promise<UserThreadRow> {
  const before = await loadUserThread(trx, actor.userId, teamId, thread.root.id);
  if (!before) throw threadNotFound();
  const mentions = await countThreadMentions(trx, thread, actor.userId, timestamp);
  await trx('thread_memberships').where({ user_id: actor.userId, post_id: thread.root.id })
    .update({ last_viewed: timestamp, unread_mentions: mentions, last_updated: nowMs() });
  const after = (await loadUserThread(trx, actor.userId, teamId, thread.root.id))!;
  afterCommit(() => toUser(events, 'thread_read_changed', actor.userId, teamId, {
    thread_id: thread.root.id, timestamp, channel_id: thread.root.channel_id,
    unread_mentions: after.unread_mentions, unread_replies: after.unread_replies,
    previous_unread_mentions: before.unread_mentions, previous_unread_replies: before.unread_replies,
  }));
  return after;
}

/** Announced (internally, after commit) when a reply is deleted; threads/events.ts tells the followers. */
export const REPLY_DELETED = 'thread_reply_deleted';

/**
 * A reply was deleted (already marked so in this transaction): its root's reply count and last reply
 * time come from the replies left, so a thread is no longer unread because of a reply nobody can see,
 * and members whose unread mention it was have one fewer, as Mattermost's RemoveNotifications does.
 * `mentions` are the reply's targets, by the rule the post insert counted them. Returns those members.
 */
export async function forgetDeletedReply(trx: Knex.Transaction, reply: Pick<PostRow, 'id' | 'root_id' | 'channel_id' | 'user_id' | 'create_at'>, mentions: { names: string[]; everyone: boolean }): Promise<string[]> {
  await trx.raw(
    `UPDATE posts r SET reply_count = GREATEST(r.reply_count - 1, 0),
       last_reply_at = COALESCE((SELECT max(x.create_at) FROM posts x WHERE x.root_id = r.id AND x.delete_at = 0), 0)
     WHERE r.id = :root_id`,
    { root_id: reply.root_id },
  );
  if (!mentions.everyone && mentions.names.length === 0) return [];
  const { rows } = await trx.raw(
    `UPDATE thread_memberships m SET unread_mentions = m.unread_mentions - 1, last_updated = :now
     FROM users u, channel_members cm
     WHERE m.post_id = :root_id AND m.user_id <> :author AND m.unread_mentions > 0 AND m.last_viewed < :created
       AND u.id = m.user_id AND cm.channel_id = :channel_id AND cm.user_id = m.user_id
       AND (:everyone OR lower(u.username) = ANY(:names::text[]))
     RETURNING m.user_id`,
    { now: nowMs(), root_id: reply.root_id, author: reply.user_id, created: reply.create_at, channel_id: reply.channel_id, everyone: mentions.everyone, names: mentions.names },
  );
  return (rows as { user_id: string }[]).map((r) => r.user_id);
}

/** The read position that makes `postId` (the root or one of its replies) the first unread post. */
export async function unreadFrom(db: Knex | Knex.Transaction, thread: ThreadAccess, postId: string): Promise<number> {
  const post = (await db('posts').where({ id: postId, delete_at: 0 }).first('id', 'root_id', 'create_at')) as Pick<PostRow, 'id' | 'root_id' | 'create_at'> | undefined;
  if (!post) throw new NotFoundError('app.post.get.app_error', 'Unable to get the post.');
  if (post.id !== thread.root.id && post.root_id !== thread.root.id) throw new InvalidInputError('app.user.update_thread_read_for_user_by_post.app_error', 'The post is not part of this thread.');
  return post.create_at - 1;
}

/** Marks every thread the actor follows in the team (and in direct and group messages) read. */
export async function markAllThreadsRead(db: Knex | Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, teamId: string): Promise<void> {
  const now = nowMs();
  await db.raw(
    `UPDATE thread_memberships m SET last_viewed = GREATEST(m.last_viewed, :now), unread_mentions = 0, last_updated = :now
     FROM posts p JOIN channels c ON c.id = p.channel_id
     WHERE m.user_id = :user_id AND m.following AND p.id = m.post_id AND c.team_id IN (:team_id, '')`,
    { now, user_id: actor.userId, team_id: teamId },
  );
  afterCommit(() => toUser(events, 'thread_read_changed', actor.userId, teamId, { timestamp: now }));
}

/** UserThread objects for rows, participants included. */
export async function presentUserThreads(db: Knex | Knex.Transaction, actor: Actor, rows: UserThreadRow[], extended: boolean): Promise<Record<string, unknown>[]> {
  const participants = await threadParticipants(db, rows.map((r) => r.id), extended ? actor : undefined);
  return rows.map((row) => presentUserThread(row, participants.get(row.id) ?? []));
}
