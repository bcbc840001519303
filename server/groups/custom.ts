import type { Knex } from 'knex';
import { InvalidInputError, invalidParam } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import { newId } from '../lib/ids.ts';

/**
 * Custom groups: mention groups people make by hand (Mattermost's `source: "custom"`). Their members are
 * whoever users put there, so they never grant roles and are never linked to teams or channels: those
 * powers belong to groups from the directory or the identity provider only.
 */

// Names a mention of a group may not take: Mattermost's channel-wide mentions.
const reservedNames = new Set(['all', 'channel', 'here']);

/** Mattermost's GroupMember. */
export interface GroupMemberRow {
  group_id: string;
  user_id: string;
  create_at: number;
  delete_at: number;
}

export const presentGroupMember = (row: GroupMemberRow) => ({ group_id: row.group_id, user_id: row.user_id, create_at: Number(row.create_at), delete_at: Number(row.delete_at) });

/** Refuses a name another active group or a user already answers to (either would make @name ambiguous). */
async function assertNameFree(trx: Knex.Transaction, name: string): Promise<void> {
  if (reservedNames.has(name)) throw new InvalidInputError('api.ldap_groups.existing_reserved_name_error', `@${name} is reserved for channel-wide mentions.`);
  if (await trx('users').whereRaw('lower(username) = ?', [name]).first('id')) {
    throw new InvalidInputError('api.ldap_groups.existing_user_name_error', 'A user already has that name.');
  }
  if (await trx('groups').whereRaw('lower(name) = ?', [name]).where({ delete_at: 0 }).first('id')) {
    throw new InvalidInputError('api.ldap_groups.existing_group_name_error', 'A group already has that name.');
  }
}

/** Active, non-bot users among `userIds`; any other id is a 400. */
async function assertActiveUsers(trx: Knex.Transaction, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const found = new Set((await trx('users').whereIn('id', userIds).where({ delete_at: 0, is_bot: false }).pluck('id')) as string[]);
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length) throw invalidParam('user_ids', `no active user with id ${missing.join(', ')}`);
}

/** Creates a custom group with its first members. */
export async function createCustomGroup(
  trx: Knex.Transaction,
  props: { name: string; displayName: string; description: string; userIds: string[] },
): Promise<{ id: string }> {
  await assertNameFree(trx, props.name);
  const userIds = [...new Set(props.userIds)];
  await assertActiveUsers(trx, userIds);
  const id = newId();
  const now = nowMs();
  // remote_id is unique per source; a custom group has none of its own, so it carries its id.
  await trx('groups').insert({ id, name: props.name, display_name: props.displayName, description: props.description, source: 'custom', remote_id: id, allow_reference: true, create_at: now, update_at: now });
  if (userIds.length) await trx('group_members').insert(userIds.map((userId) => ({ group_id: id, user_id: userId, create_at: now, delete_at: 0 })));
  return { id };
}

/** Adds (or removes) members of a custom group; returns the membership rows changed. */
export async function changeCustomGroupMembers(trx: Knex.Transaction, groupId: string, userIds: string[], change: 'add' | 'remove'): Promise<GroupMemberRow[]> {
  const ids = [...new Set(userIds)];
  const now = nowMs();
  if (change === 'add') {
    await assertActiveUsers(trx, ids);
    return (await trx('group_members').insert(ids.map((userId) => ({ group_id: groupId, user_id: userId, create_at: now, delete_at: 0 })))
      .onConflict(['group_id', 'user_id']).merge({ delete_at: 0, create_at: now }).returning('*')) as GroupMemberRow[];
  }
  return (await trx('group_members').where({ group_id: groupId, delete_at: 0 }).whereIn('user_id', ids).update({ delete_at: now }).returning('*')) as GroupMemberRow[];
}

/** Archives or restores a custom group (restoring checks its name is still free). */
export async function setCustomGroupArchived(trx: Knex.Transaction, group: { id: string; name: string | null }, archived: boolean): Promise<void> {
  if (!archived && group.name) await assertNameFree(trx, group.name.toLowerCase());
  await trx('groups').where({ id: group.id }).update({ delete_at: archived ? nowMs() : 0, update_at: nowMs() });
}

/** Refuses (400, Mattermost's app.group.crud_permission) what only a custom group allows, or only a directory group. */
export function assertSource(group: { source: string }, wanted: 'custom' | 'external', what: string): void {
  const custom = group.source === 'custom';
  if (custom === (wanted === 'custom')) return;
  throw new InvalidInputError('app.group.crud_permission', wanted === 'custom'
    ? `Only a custom group can be ${what}; this one comes from ${group.source}.`
    : `A custom group cannot be ${what}: only groups from the directory or the identity provider can.`);
}
