import type { Knex } from 'knex';
import type { ChannelRow } from '../channels/model.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { nowMs } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';
import type { EventBus } from '../realtime/events.ts';
import { insertPost } from './insert.ts';
import type { PostRow } from './model.ts';
import { announcePost } from './service.ts';

/** A membership change, as Mattermost announces it in the channel. */
export type MembershipNotice =
  | { kind: 'joined'; user: { id: string; username: string } }
  | { kind: 'left'; user: { id: string; username: string } }
  | { kind: 'added'; by: { id: string; username: string }; user: { id: string; username: string } }
  | { kind: 'removed'; by: { id: string; username: string }; user: { id: string; username: string } };

/** Mattermost's post type, text and props for each notice; the webapp renders them from the props. */
function describe(notice: MembershipNotice): { authorId: string; type: string; message: string; props: Record<string, unknown> } {
  switch (notice.kind) {
    case 'joined':
      return { authorId: notice.user.id, type: 'system_join_channel', message: `${notice.user.username} joined the channel.`, props: { username: notice.user.username } };
    case 'left':
      return { authorId: notice.user.id, type: 'system_leave_channel', message: `${notice.user.username} left the channel.`, props: { username: notice.user.username } };
    case 'added':
      return {
        authorId: notice.by.id, type: 'system_add_to_channel', message: `${notice.user.username} added to the channel by ${notice.by.username}.`,
        props: { userId: notice.by.id, username: notice.by.username, addedUserId: notice.user.id, addedUsername: notice.user.username },
      };
    case 'removed':
      return {
        authorId: notice.by.id, type: 'system_remove_from_channel', message: `${notice.user.username} was removed from the channel.`,
        props: { removedUserId: notice.user.id, removedUsername: notice.user.username },
      };
  }
}

/**
 * Posts the system message for a join, leave, add or removal in a team channel, in the transaction
 * that changed the membership, and announces it after commit. Direct and group messages get none.
 */
export async function postMembershipNotice(trx: Knex.Transaction, events: EventBus, afterCommit: AfterCommit, channel: ChannelRow, notice: MembershipNotice): Promise<void> {
  if (channel.type === 'D' || channel.type === 'G') return;
  const { authorId, type, message, props } = describe(notice);
  const now = nowMs();
  const post: PostRow = {
    id: newId(), create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false, user_id: authorId, channel_id: channel.id,
    root_id: '', original_id: '', message, type, props, hashtags: '', file_ids: [], pending_post_id: '', reply_count: 0, last_reply_at: 0,
  };
  // The author may no longer be a member (left, removed someone and then themself): nothing to re-check.
  const outcome = await insertPost(trx, post, { requireMembership: false }, { names: [], everyone: false });
  if (!outcome.inserted) return;
  afterCommit(() => announcePost(events, channel, post, { senderName: `@${outcome.username}` }));
}
