import type { Knex } from 'knex';
import { systemRolesOf } from '../../server/auth/actor.ts';
import { forgetCachedSessions } from '../../server/auth/sessions.ts';
import { addChannelMember, removeChannelMember } from '../../server/channels/membership.ts';
import type { ChannelRow } from '../../server/channels/model.ts';
import type { AfterCommit } from '../../server/db/transaction.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { newId } from '../../server/lib/ids.ts';
import type { Logger } from '../../server/lib/logger.ts';
import type { EventBus } from '../../server/realtime/events.ts';
import { userRoleUpdated } from '../../server/realtime/invalidation.ts';
import type { TeamRow } from '../../server/teams/model.ts';
import { addTeamMember, removeTeamMember } from '../../server/teams/service.ts';
import { auditIdentity } from '../audit.ts';

export type GroupSource = 'ldap' | 'saml' | 'oidc' | 'custom';

/** System roles a group may grant. Guests never receive system_admin through a group. */
export const groupGrantableRoles = ['system_admin', 'system_user_manager', 'compliance_officer', 'auditor'] as const;

export interface GroupSyncDeps {
  events: EventBus;
  logger: Logger;
}

/** A group as a directory or identity provider names it. */
export interface ExternalGroup {
  remoteId: string;
  displayName: string;
}

/** Creates the groups of `source` not seen before and refreshes display names; returns remote id → group id. */
export async function upsertGroups(trx: Knex.Transaction, source: GroupSource, groups: ExternalGroup[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (groups.length === 0) return ids;
  const now = nowMs();
  for (let i = 0; i < groups.length; i += 500) {
    const chunk = groups.slice(i, i + 500);
    const rows = chunk.map((g) => ({
      id: newId(), source, remote_id: g.remoteId.slice(0, 512), display_name: (g.displayName || g.remoteId).slice(0, 128), create_at: now, update_at: now,
    }));
    const stored = (await trx('groups').insert(rows).onConflict(['source', 'remote_id']).merge({ display_name: trx.raw('EXCLUDED.display_name') }).returning(['id', 'remote_id'])) as { id: string; remote_id: string }[];
    for (const row of stored) ids.set(row.remote_id, row.id);
  }
  return ids;
}

/**
 * Makes `groupIds` exactly the user's groups from `source` (adding and removing memberships, each
 * audited), then applies what those groups imply: teams, channels and roles.
 */
export async function setUserGroups(
  trx: Knex.Transaction,
  deps: GroupSyncDeps,
  afterCommit: AfterCommit,
  props: { userId: string; source: GroupSource; groupIds: string[] },
): Promise<void> {
  const { userId, source } = props;
  const wanted = new Set(props.groupIds);
  const current = (await trx('group_members as gm').join('groups as g', 'g.id', 'gm.group_id')
    .where({ 'gm.user_id': userId, 'g.source': source }).select('gm.group_id', 'gm.delete_at')) as { group_id: string; delete_at: number }[];
  const active = new Set(current.filter((m) => Number(m.delete_at) === 0).map((m) => m.group_id));
  const now = nowMs();
  for (const groupId of wanted) {
    if (active.has(groupId)) continue;
    await trx('group_members').insert({ group_id: groupId, user_id: userId, create_at: now, delete_at: 0 }).onConflict(['group_id', 'user_id']).merge({ delete_at: 0, create_at: now });
    await auditIdentity(trx, deps.logger, { event: 'group_member_added', groupId, userId, source });
  }
  for (const groupId of active) {
    if (wanted.has(groupId)) continue;
    await trx('group_members').where({ group_id: groupId, user_id: userId }).update({ delete_at: now });
    await auditIdentity(trx, deps.logger, { event: 'group_member_removed', groupId, userId, source });
  }
  await reconcileUser(trx, deps, afterCommit, userId);
}

/**
 * Brings one user's team and channel memberships and group-granted roles in line with their groups:
 * joins auto-add teams and channels linked to any of their groups, leaves group-constrained teams and
 * channels that none of their groups is linked to, and recomputes `users.group_roles`.
 */
export async function reconcileUser(trx: Knex.Transaction, deps: GroupSyncDeps, afterCommit: AfterCommit, userId: string): Promise<void> {
  const user = await trx('users').where({ id: userId }).forUpdate().first('id', 'roles', 'group_roles', 'delete_at');
  if (!user) return;
  const groups = (await trx('group_members as gm').join('groups as g', 'g.id', 'gm.group_id')
    .where({ 'gm.user_id': userId, 'gm.delete_at': 0, 'g.delete_at': 0 }).select('g.id', 'g.roles', 'gm.create_at')) as { id: string; roles: string; create_at: number | string }[];
  const guest = (user.roles as string).split(/\s+/).includes('system_guest');

  const granted = new Set<string>();
  for (const g of groups) for (const role of g.roles.split(/\s+/)) if ((groupGrantableRoles as readonly string[]).includes(role)) granted.add(role);
  if (guest) granted.delete('system_admin');
  const groupRoles = [...granted].sort().join(' ');
  if (groupRoles !== user.group_roles) {
    await trx('users').where({ id: userId }).update({ group_roles: groupRoles, update_at: nowMs() });
    await auditIdentity(trx, deps.logger, { event: 'group_roles_changed', userId, before: user.group_roles, after: groupRoles });
    afterCommit(() => {
      forgetCachedSessions(userId);
      deps.events.publish(userRoleUpdated(userId, systemRolesOf({ roles: user.roles as string, group_roles: groupRoles })));
    });
  }
  if (Number(user.delete_at) > 0) return;

  const groupIds = groups.map((g) => g.id);
  const syncables = groupIds.length
    ? ((await trx('group_syncables').whereIn('group_id', groupIds).where({ delete_at: 0 })) as { group_id: string; syncable_id: string; type: 'team' | 'channel'; auto_add: boolean; scheme_admin: boolean }[])
    : [];
  const joinedAt = new Map(groups.map((g) => [g.id, Number(g.create_at)]));
  const linked = (type: 'team' | 'channel') => {
    const map = new Map<string, Link>();
    for (const s of syncables.filter((x) => x.type === type)) {
      const entry = map.get(s.syncable_id) ?? { groupIds: [], autoAdd: false, admin: false, joinedAt: 0 };
      entry.groupIds.push(s.group_id);
      entry.autoAdd ||= s.auto_add;
      entry.admin ||= s.scheme_admin;
      entry.joinedAt = Math.max(entry.joinedAt, joinedAt.get(s.group_id) ?? 0);
      map.set(s.syncable_id, entry);
    }
    return map;
  };
  const teams = linked('team');
  const channels = linked('channel');
  const teamDeps = { events: deps.events };

  // Joins: teams first, so channels of a linked team have their team membership. Returns whether the
  // user is (now) a member: a removal that sticks keeps them out.
  const ensureTeam = async (team: TeamRow, link: Link, admin: boolean): Promise<boolean> => {
    const member = await trx('team_members').where({ team_id: team.id, user_id: userId }).first();
    if (member && Number(member.delete_at) === 0) {
      if (admin && !member.scheme_admin && !guest) await trx('team_members').where({ team_id: team.id, user_id: userId }).update({ scheme_admin: true });
      return true;
    }
    if (member && removalSticks(team, Number(member.delete_at), link)) return false;
    await addTeamMember(trx, teamDeps, afterCommit, { team, userId, admin });
    await auditIdentity(trx, deps.logger, { event: 'group_sync_added_to_team', teamId: team.id, userId, groupIds: link.groupIds });
    return true;
  };
  for (const [teamId, link] of teams) {
    if (!link.autoAdd) continue;
    const team = (await trx('teams').where({ id: teamId, delete_at: 0 }).first()) as TeamRow | undefined;
    if (team) await ensureTeam(team, link, link.admin);
  }
  for (const [channelId, link] of channels) {
    if (!link.autoAdd) continue;
    const channel = (await trx('channels').where({ id: channelId, delete_at: 0 }).first()) as ChannelRow | undefined;
    if (!channel || !channel.team_id) continue;
    const team = (await trx('teams').where({ id: channel.team_id, delete_at: 0 }).first()) as TeamRow | undefined;
    if (!team) continue;
    const existing = await trx('channel_members').where({ channel_id: channel.id, user_id: userId }).first();
    if (existing) {
      if (link.admin && !existing.scheme_admin && !guest) await trx('channel_members').where({ channel_id: channel.id, user_id: userId }).update({ scheme_admin: true });
      continue;
    }
    if (removalSticks(channel, await lastChannelLeave(trx, channel.id, userId), link)) continue;
    if (!(await ensureTeam(team, link, false))) continue;
    await addChannelMember(trx, deps.events, afterCommit, { channel, userId, guest, admin: link.admin });
    await auditIdentity(trx, deps.logger, { event: 'group_sync_added_to_channel', channelId: channel.id, userId, groupIds: link.groupIds });
  }

  // Removals: group-constrained channels and teams none of the user's groups is linked to.
  const constrainedChannels = (await trx('channels as c').join('channel_members as cm', 'cm.channel_id', 'c.id')
    .where({ 'cm.user_id': userId, 'c.group_constrained': true }).select('c.*')) as ChannelRow[];
  for (const channel of constrainedChannels) {
    if (channels.has(channel.id)) continue;
    await removeChannelMember(trx, deps.events, afterCommit, { channel, userId, removerId: '' });
    await auditIdentity(trx, deps.logger, { event: 'group_sync_removed_from_channel', channelId: channel.id, userId, groupIds: [] });
  }
  const constrainedTeams = (await trx('teams as t').join('team_members as tm', 'tm.team_id', 't.id')
    .where({ 'tm.user_id': userId, 'tm.delete_at': 0, 't.group_constrained': true }).select('t.*')) as TeamRow[];
  for (const team of constrainedTeams) {
    if (teams.has(team.id)) continue;
    await removeTeamMember(trx, teamDeps, afterCommit, { team, userId, removerId: '' });
    await auditIdentity(trx, deps.logger, { event: 'group_sync_removed_from_team', teamId: team.id, userId, groupIds: [] });
  }
}

/** What reconcileUser knows of one team or channel the user's groups are linked to. */
interface Link {
  groupIds: string[];
  autoAdd: boolean;
  admin: boolean;
  /** When the user last joined (or rejoined) one of the linked groups. */
  joinedAt: number;
}

/**
 * Mattermost's rule for teams and channels that are not group-constrained: a member who was removed
 * (or left) stays out until they join one of the linked groups again. Their removal is the team
 * member row's delete_at, or the channel's last membership interval; an auto-add link alone does not
 * undo it. A group-constrained one has exactly the groups' members, so nothing sticks there.
 */
function removalSticks(syncable: { group_constrained: boolean }, removedAt: number, link: Link): boolean {
  return !syncable.group_constrained && removedAt > 0 && removedAt >= link.joinedAt;
}

/** When the user last left the channel (0: never a member). */
async function lastChannelLeave(trx: Knex.Transaction, channelId: string, userId: string): Promise<number> {
  const row = await trx('channel_member_history').where({ channel_id: channelId, user_id: userId }).max({ left: 'leave_time' }).first();
  return Number(row?.left ?? 0);
}

/** Re-applies a group to all its members (after linking or unlinking a team or channel, or changing its roles). */
export async function reconcileGroupMembers(trx: Knex.Transaction, deps: GroupSyncDeps, afterCommit: AfterCommit, groupId: string): Promise<number> {
  const members = (await trx('group_members').where({ group_id: groupId, delete_at: 0 }).pluck('user_id')) as string[];
  for (const userId of members) await reconcileUser(trx, deps, afterCommit, userId);
  return members.length;
}

/** Re-applies every group linked to a team or channel to its members (after it became group-constrained, or a link was removed). */
export async function reconcileSyncable(trx: Knex.Transaction, deps: GroupSyncDeps, afterCommit: AfterCommit, syncable: { type: 'team' | 'channel'; id: string }): Promise<void> {
  const table = syncable.type === 'team' ? 'team_members' : 'channel_members';
  const column = syncable.type === 'team' ? 'team_id' : 'channel_id';
  const memberQuery = trx(table).where({ [column]: syncable.id });
  if (syncable.type === 'team') memberQuery.where({ delete_at: 0 });
  const current = (await memberQuery.pluck('user_id')) as string[];
  const linkedMembers = (await trx('group_syncables as gs').join('group_members as gm', 'gm.group_id', 'gs.group_id')
    .where({ 'gs.syncable_id': syncable.id, 'gs.type': syncable.type, 'gs.delete_at': 0, 'gm.delete_at': 0 }).distinct().pluck('gm.user_id')) as string[];
  for (const userId of new Set([...current, ...linkedMembers])) await reconcileUser(trx, deps, afterCommit, userId);
}
