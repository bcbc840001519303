import type { Knex } from 'knex';
import type { AfterCommit } from '../db/transaction.ts';
import { nowMs } from '../lib/clock.ts';
import type { EventBus } from '../realtime/events.ts';
import type { ChannelMemberRow, ChannelRow } from './model.ts';

/**
 * Adds a user to a channel and opens their membership history interval (compliance exports read joins
 * and leaves from channel_member_history). Idempotent: an existing member is returned unchanged.
 */
export async function addChannelMember(
  trx: Knex.Transaction,
  events: EventBus,
  afterCommit: AfterCommit,
  props: { channel: ChannelRow; userId: string; guest: boolean; admin?: boolean },
): Promise<ChannelMemberRow> {
  const { channel, userId } = props;
  const existing = (await trx('channel_members').where({ channel_id: channel.id, user_id: userId }).first()) as ChannelMemberRow | undefined;
  if (existing) return existing;
  const now = nowMs();
  const [member] = await trx('channel_members')
    .insert({
      channel_id: channel.id, user_id: userId, scheme_guest: props.guest, scheme_user: !props.guest, scheme_admin: Boolean(props.admin) && !props.guest,
      last_viewed_at: 0, msg_count: 0, last_update_at: now,
      notify_props: { desktop: 'default', email: 'default', mark_unread: 'all', push: 'default', ignore_channel_mentions: 'default' },
    })
    .returning('*');
  await trx('channel_member_history').insert({ channel_id: channel.id, user_id: userId, join_time: now });
  afterCommit(() =>
    events.publish({ event: 'user_added', data: { user_id: userId, team_id: channel.team_id }, broadcast: { channel_id: channel.id } }),
  );
  return member as ChannelMemberRow;
}

/** Removes a user from a channel and closes their history interval; false when they were not a member. */
export async function removeChannelMember(
  trx: Knex.Transaction,
  events: EventBus,
  afterCommit: AfterCommit,
  props: { channel: ChannelRow; userId: string; removerId: string },
): Promise<boolean> {
  const { channel, userId } = props;
  const removed = await trx('channel_members').where({ channel_id: channel.id, user_id: userId }).delete();
  if (!removed) return false;
  await trx('channel_member_history').where({ channel_id: channel.id, user_id: userId }).whereNull('leave_time').update({ leave_time: nowMs() });
  afterCommit(() => {
    // The removed user hears it on their own socket; the channel's remaining members hear it too.
    events.publish({ event: 'user_removed', data: { channel_id: channel.id, remover_id: props.removerId, user_id: userId }, broadcast: { user_id: userId } });
    events.publish({ event: 'user_removed', data: { user_id: userId, remover_id: props.removerId }, broadcast: { channel_id: channel.id } });
  });
  return true;
}
