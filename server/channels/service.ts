import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { authorize } from '../auth/policy.ts';
import { prepared } from '../db/prepared.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { EventBus } from '../realtime/events.ts';
import { getTeamMember } from '../teams/service.ts';
import { postMembershipNotice } from '../posts/system-posts.ts';
import { addChannelMember, removeChannelMember } from './membership.ts';
import { assertMayJoin, assertMayRemove, channelSyncable } from '../groups/constraints.ts';
import type { ChannelRow } from './model.ts';
import type { ChannelAccess } from './access.ts';

export interface ChannelDeps {
  events: EventBus;
}

function isGuestRoles(roles: string): boolean {
  return roles.split(' ').includes('system_guest');
}

/** Creates a public or private channel in a team; the creator becomes its admin. */
export async function createChannel(
  trx: Knex.Transaction,
  deps: ChannelDeps,
  afterCommit: AfterCommit,
  actor: Actor,
  input: { team_id: string; name: string; display_name: string; type: 'O' | 'P'; header?: string; purpose?: string },
): Promise<ChannelRow> {
  const teamMember = await getTeamMember(trx, input.team_id, actor.userId);
  const team = await trx('teams').where({ id: input.team_id }).first('id', 'delete_at');
  if (!team) throw new NotFoundError('app.team.get.find.app_error', 'We could not find the team.');
  authorize(actor, input.type === 'O' ? 'create_public_channel' : 'create_private_channel', { kind: 'team', teamMember: teamMember?.delete_at === 0 ? teamMember : undefined });
  if (await trx('channels').where({ team_id: input.team_id, name: input.name }).first('id')) {
    throw new ConflictError('store.sql_channel.save_channel.exists.app_error', 'A channel with that name already exists on the same team.');
  }
  const now = nowMs();
  const [channel] = (await trx('channels')
    .insert({ id: newId(), create_at: now, update_at: now, team_id: input.team_id, type: input.type, name: input.name, display_name: input.display_name, header: input.header ?? '', purpose: input.purpose ?? '', creator_id: actor.userId })
    .returning('*')) as ChannelRow[];
  await addChannelMember(trx, deps.events, afterCommit, { channel, userId: actor.userId, guest: false, admin: true });
  afterCommit(() => deps.events.publish({ event: 'channel_created', data: { channel_id: channel.id, team_id: channel.team_id }, broadcast: { user_id: actor.userId } }));
  return channel;
}

async function usersExist(trx: Knex.Transaction, ids: string[]): Promise<{ id: string; roles: string }[]> {
  const rows = await trx('users').whereIn('id', ids).where({ delete_at: 0 }).select('id', 'roles');
  if (rows.length !== ids.length) throw new InvalidInputError('api.channel.create_direct_channel.invalid_user.app_error', 'One of the users does not exist or is deactivated.');
  return rows;
}

/** Guests may only open conversations with people they already share a channel with. */
async function assertGuestMayMessage(trx: Knex.Transaction, actor: Actor, others: string[]): Promise<void> {
  if (!actor.roles.has('system_guest')) return;
  const shared = await trx('channel_members as a').join('channel_members as b', 'a.channel_id', 'b.channel_id').where('a.user_id', actor.userId).whereIn('b.user_id', others).distinct('b.user_id');
  if (shared.length < others.filter((id) => id !== actor.userId).length) {
    throw new ForbiddenError('api.context.permissions.app_error', 'Guests can only message people they share a channel with.');
  }
}

/** Who takes part in a direct channel and its name; refuses opening one for others without manage_system. */
function directChannelOf(actor: Actor, userIds: [string, string]): { ids: string[]; name: string } {
  if (!userIds.includes(actor.userId)) authorize(actor, 'manage_system', { kind: 'system' });
  authorize(actor, 'create_direct_channel', { kind: 'system' });
  const ids = [...new Set(userIds)].sort();
  return { ids, name: ids.length === 1 ? `${ids[0]}__${ids[0]}` : `${ids[0]}__${ids[1]}` };
}

// The channel and whether every participant is still active, in one round trip.
const existingDirectQuery = `
  SELECT c.*, (SELECT count(*) FROM users WHERE id = ANY(?) AND delete_at = 0)::int AS active_users
  FROM channels c WHERE c.team_id = '' AND c.name = ?`;

/**
 * The direct channel of two users when it already exists and opening it needs no further check (every
 * participant active, the actor not a guest); undefined otherwise, for `openDirectChannel` to decide.
 * Reopening a conversation is most of what clients do, and it writes nothing.
 */
export async function existingDirectChannel(db: Knex, actor: Actor, userIds: [string, string]): Promise<ChannelRow | undefined> {
  const { ids, name } = directChannelOf(actor, userIds);
  if (actor.roles.has('system_guest')) return undefined;
  const { rows } = await db.raw(existingDirectQuery, [ids, name]).options(prepared('direct_channel'));
  const row = rows[0] as (ChannelRow & { active_users: number }) | undefined;
  if (!row || row.active_users !== ids.length) return undefined;
  const { active_users: _, ...channel } = row;
  return channel;
}

/** Finds or creates the direct channel of two users (the same channel whoever opens it). */
export async function openDirectChannel(trx: Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, userIds: [string, string]): Promise<ChannelRow> {
  const { ids, name } = directChannelOf(actor, userIds);
  const users = await usersExist(trx, ids);
  await assertGuestMayMessage(trx, actor, ids);
  return findOrCreateConversation(trx, deps, afterCommit, { type: 'D', name, users, actor });
}

/** Finds or creates the group channel of 3 to 8 users. */
export async function openGroupChannel(trx: Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, userIds: string[]): Promise<ChannelRow> {
  authorize(actor, 'create_group_channel', { kind: 'system' });
  const ids = [...new Set([...userIds, actor.userId])].sort();
  if (ids.length < 3 || ids.length > 8) throw new InvalidInputError('api.channel.create_group.bad_size.app_error', 'Group messages must have at least 3 and no more than 8 users.');
  const users = await usersExist(trx, ids);
  await assertGuestMayMessage(trx, actor, ids);
  const name = crypto.createHash('sha1').update(ids.join(',')).digest('hex');
  return findOrCreateConversation(trx, deps, afterCommit, { type: 'G', name, users, actor });
}

async function findOrCreateConversation(
  trx: Knex.Transaction,
  deps: ChannelDeps,
  afterCommit: AfterCommit,
  props: { type: 'D' | 'G'; name: string; users: { id: string; roles: string }[]; actor: Actor },
): Promise<ChannelRow> {
  const now = nowMs();
  const inserted = (await trx('channels')
    .insert({ id: newId(), create_at: now, update_at: now, team_id: '', type: props.type, name: props.name, display_name: '', creator_id: props.actor.userId })
    .onConflict(['team_id', 'name'])
    .ignore()
    .returning('*')) as ChannelRow[];
  const channel = inserted[0] ?? ((await trx('channels').where({ team_id: '', name: props.name }).first()) as ChannelRow);
  if (inserted[0]) {
    for (const user of props.users) await addChannelMember(trx, deps.events, afterCommit, { channel, userId: user.id, guest: isGuestRoles(user.roles) });
    const event = props.type === 'D' ? 'direct_added' : 'group_added';
    for (const user of props.users) {
      afterCommit(() => deps.events.publish({ event, data: { teammate_id: props.actor.userId, teammate_ids: JSON.stringify(props.users.map((u) => u.id)) }, broadcast: { user_id: user.id, channel_id: '' } }));
    }
  }
  return channel;
}

/** Adds a user to a team channel: self-join of a public channel, or by a member who may manage members. */
export async function addMemberToChannel(trx: Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, access: ChannelAccess, userId: string) {
  const { channel } = access;
  if (channel.type === 'D' || channel.type === 'G') throw new InvalidInputError('api.channel.add_user.to.channel.failed.deleted.app_error', 'Members cannot be added to a direct or group message.');
  if (channel.delete_at > 0) throw new InvalidInputError('api.channel.add_user.to.channel.failed.deleted.app_error', 'The channel has been archived.');
  if (userId === actor.userId && channel.type === 'O') authorize(actor, 'join_public_channels', access.resource);
  else authorize(actor, channel.type === 'O' ? 'manage_public_channel_members' : 'manage_private_channel_members', access.resource);
  const target = await trx('users').where({ id: userId, delete_at: 0 }).first('roles', 'username');
  const teamMember = await getTeamMember(trx, channel.team_id, userId);
  if (!target || !teamMember || teamMember.delete_at > 0) {
    throw new ForbiddenError('api.channel.add_user.to.channel.failed.app_error', 'The user is not a member of the channel\'s team.');
  }
  await assertMayJoin(trx, channelSyncable(channel), [userId]);
  const already = await trx('channel_members').where({ channel_id: channel.id, user_id: userId }).first('user_id');
  const member = await addChannelMember(trx, deps.events, afterCommit, { channel, userId, guest: isGuestRoles(target.roles) });
  if (!already) {
    const user = { id: userId, username: target.username as string };
    await postMembershipNotice(trx, deps.events, afterCommit, channel, userId === actor.userId ? { kind: 'joined', user } : { kind: 'added', user, by: await usernameOf(trx, actor) });
  }
  return member;
}

async function usernameOf(trx: Knex.Transaction, actor: Actor): Promise<{ id: string; username: string }> {
  return { id: actor.userId, username: actor.username ?? (await trx('users').where({ id: actor.userId }).first('username')).username };
}

/** Removes a member: leaving oneself, or removing another with the member-management permission. */
export async function removeMemberFromChannel(trx: Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, access: ChannelAccess, userId: string): Promise<void> {
  const { channel } = access;
  if (channel.type === 'D' || channel.type === 'G') throw new InvalidInputError('api.channel.remove.direct.app_error', 'You cannot leave a direct or group message.');
  if (channel.name === 'town-square') throw new InvalidInputError('api.channel.remove.default.app_error', 'You cannot leave the default channel.');
  if (userId !== actor.userId) authorize(actor, channel.type === 'O' ? 'manage_public_channel_members' : 'manage_private_channel_members', access.resource);
  await assertMayRemove(trx, channelSyncable(channel), { actorId: actor.userId, userId });
  const removed = await removeChannelMember(trx, deps.events, afterCommit, { channel, userId, removerId: actor.userId });
  if (!removed) throw new NotFoundError('app.channel.get_member.missing.app_error', 'That user is not a member of the channel.');
  const user = { id: userId, username: (await trx('users').where({ id: userId }).first('username')).username as string };
  await postMembershipNotice(trx, deps.events, afterCommit, channel, userId === actor.userId ? { kind: 'left', user } : { kind: 'removed', user, by: await usernameOf(trx, actor) });
}

/** Archives (soft-deletes) or restores a channel; its messages stay for compliance. */
export async function setChannelArchived(trx: Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, access: ChannelAccess, archived: boolean): Promise<ChannelRow> {
  const { channel } = access;
  if (channel.type === 'D' || channel.type === 'G') throw new InvalidInputError('api.channel.delete_channel.type.invalid', 'Direct and group messages cannot be archived.');
  if (channel.name === 'town-square' && archived) throw new InvalidInputError('api.channel.delete_channel.cannot.app_error', 'The default channel cannot be archived.');
  authorize(actor, 'archive_channel', access.resource);
  const now = nowMs();
  const [row] = (await trx('channels').where({ id: channel.id }).update({ delete_at: archived ? now : 0, update_at: now }).returning('*')) as ChannelRow[];
  afterCommit(() =>
    deps.events.publish({
      event: archived ? 'channel_deleted' : 'channel_restored',
      data: { channel_id: channel.id, delete_at: row.delete_at, team_id: channel.team_id },
      broadcast: { team_id: channel.team_id },
    }),
  );
  return row;
}

// One statement: the member row and the channel's counters joined, which also proves the membership.
const viewQuery = `
  UPDATE channel_members cm
  SET last_viewed_at = ?, msg_count = c.total_msg_count, msg_count_root = c.total_msg_count_root, mention_count = 0, mention_count_root = 0, last_update_at = ?
  FROM channels c
  WHERE c.id = cm.channel_id AND cm.channel_id = ? AND cm.user_id = ?`;

/** Marks a channel read for the actor: unread and mention counts drop to zero. One statement, atomic by itself. */
export async function viewChannel(db: Knex | Knex.Transaction, deps: ChannelDeps, afterCommit: AfterCommit, actor: Actor, channel: ChannelRow): Promise<number> {
  const now = nowMs();
  const { rowCount } = await db.raw(viewQuery, [now, now, channel.id, actor.userId]).options(prepared('channel_view'));
  if (!rowCount) throw new ForbiddenError('api.context.permissions.app_error', 'You are not a member of this channel.');
  afterCommit(() => deps.events.publish({ event: 'channel_viewed', data: { channel_id: channel.id }, broadcast: { user_id: actor.userId } }));
  return now;
}

const statsQuery = `
  SELECT (SELECT count(*) FROM channel_members WHERE channel_id = ?)::int AS members,
         (SELECT count(*) FROM posts WHERE channel_id = ? AND is_pinned AND delete_at = 0)::int AS pinned`;

/** Member and pinned-post counts of a channel, in one round trip. */
export async function channelStats(db: Knex, channelId: string): Promise<{ members: number; pinned: number }> {
  const { rows } = await db.raw(statsQuery, [channelId, channelId]).options(prepared('channel_stats'));
  return rows[0];
}
