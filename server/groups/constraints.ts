import type { Knex } from 'knex';
import { InvalidInputError } from '../lib/errors.ts';

/**
 * Mattermost's rules for group-constrained teams and channels: their membership is what the linked
 * groups say. Group sync adds and removes members (sso/groups/sync.ts); people may not add anyone
 * outside the linked groups, nor remove anyone else (a bot excepted). Leaving oneself is allowed.
 */
export interface ConstrainedSyncable {
  type: 'team' | 'channel';
  id: string;
  group_constrained: boolean;
}

/** Those of `userIds` who belong to no active group linked to the team or channel. */
export async function usersOutsideLinkedGroups(db: Knex, syncable: ConstrainedSyncable, userIds: string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const inside = new Set((await db('group_syncables as gs')
    .join('groups as g', 'g.id', 'gs.group_id')
    .join('group_members as gm', 'gm.group_id', 'gs.group_id')
    .where({ 'gs.syncable_id': syncable.id, 'gs.type': syncable.type, 'gs.delete_at': 0, 'g.delete_at': 0, 'gm.delete_at': 0 })
    .whereIn('gm.user_id', userIds)
    .distinct()
    .pluck('gm.user_id')) as string[]);
  return userIds.filter((id) => !inside.has(id));
}

/** Refuses (400, Mattermost's ids) to add users outside the linked groups to a group-constrained team or channel. */
export async function assertMayJoin(db: Knex, syncable: ConstrainedSyncable, userIds: string[]): Promise<void> {
  if (!syncable.group_constrained) return;
  const outside = await usersOutsideLinkedGroups(db, syncable, userIds);
  if (outside.length === 0) return;
  if (syncable.type === 'team') {
    throw new InvalidInputError('api.team.add_members.user_denied', 'This team is managed by groups. This user is not part of a group that is synced to this team.', `user_ids=${outside.join(',')}`);
  }
  throw new InvalidInputError('api.channel.add_members.user_denied', `Channel membership denied to the following users because of group constraints: ${outside.join(', ')}.`, `user_ids=${outside.join(',')}`);
}

/** Refuses (400) to remove another member than oneself, or a bot, from a group-constrained team or channel. */
export async function assertMayRemove(db: Knex, syncable: ConstrainedSyncable, props: { actorId: string; userId: string }): Promise<void> {
  if (!syncable.group_constrained || props.actorId === props.userId) return;
  const target = await db('users').where({ id: props.userId }).first('is_bot');
  if (target?.is_bot) return;
  throw syncable.type === 'team'
    ? new InvalidInputError('api.team.remove_member.group_constrained.app_error', 'Unable to remove a user from a group-constrained team: its members are the members of its linked groups.')
    : new InvalidInputError('api.channel.remove_member.group_constrained.app_error', 'Unable to remove a user from a group-constrained channel: its members are the members of its linked groups.');
}

export const teamSyncable = (team: { id: string; group_constrained: boolean }): ConstrainedSyncable => ({ type: 'team', id: team.id, group_constrained: team.group_constrained });
export const channelSyncable = (channel: { id: string; group_constrained: boolean }): ConstrainedSyncable => ({ type: 'channel', id: channel.id, group_constrained: channel.group_constrained });
