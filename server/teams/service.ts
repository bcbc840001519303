import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { addChannelMember, removeChannelMember } from '../channels/membership.ts';
import type { ChannelRow } from '../channels/model.ts';
import { prepared } from '../db/prepared.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { EventBus } from '../realtime/events.ts';
import { reservedTeamNames, type TeamMemberRow, type TeamRow } from './model.ts';

/** Every team starts with these public channels, and every new member joins them, as in Mattermost. */
export const defaultChannels = [
  { name: 'town-square', display_name: 'Town Square' },
  { name: 'off-topic', display_name: 'Off-Topic' },
];

export interface TeamDeps {
  events: EventBus;
}

export async function getTeam(db: Knex | Knex.Transaction, teamId: string): Promise<TeamRow> {
  const team = (await db('teams').where({ id: teamId }).first()) as TeamRow | undefined;
  if (!team) throw new NotFoundError('app.team.get.find.app_error', 'We could not find the team.');
  return team;
}

export async function getTeamMember(db: Knex | Knex.Transaction, teamId: string, userId: string): Promise<TeamMemberRow | undefined> {
  return (await db('team_members').where({ team_id: teamId, user_id: userId }).first()) as TeamMemberRow | undefined;
}

// Fixed SQL text: every team-scoped request starts here.
const teamWithMemberQuery = 'SELECT t.*, to_jsonb(tm) AS team_member FROM teams t LEFT JOIN team_members tm ON tm.team_id = t.id AND tm.user_id = ? WHERE t.id = ?';

/** A team and a user's membership row in it (deleted or not), in one round trip; 404 when the team does not exist. */
export async function getTeamAndMember(db: Knex | Knex.Transaction, teamId: string, userId: string): Promise<{ team: TeamRow; member?: TeamMemberRow }> {
  const { rows } = await db.raw(teamWithMemberQuery, [userId, teamId]).options(prepared('team_and_member'));
  if (!rows[0]) throw new NotFoundError('app.team.get.find.app_error', 'We could not find the team.');
  const { team_member: member, ...team } = rows[0] as TeamRow & { team_member: TeamMemberRow | null };
  return { team, member: member ?? undefined };
}

/** Creates a team, its default channels, and makes the creator its admin. */
export async function createTeam(
  trx: Knex.Transaction,
  deps: TeamDeps,
  afterCommit: AfterCommit,
  actor: Actor,
  input: { name: string; display_name: string; type: 'O' | 'I'; description?: string; allow_open_invite?: boolean },
): Promise<TeamRow> {
  if (reservedTeamNames.has(input.name)) throw new InvalidInputError('model.team.is_valid.reserved.app_error', 'That team name is reserved.');
  if (await trx('teams').where({ name: input.name }).first('id')) {
    throw new ConflictError('app.team.save.existing.app_error', 'A team with that name already exists.');
  }
  const now = nowMs();
  const [team] = (await trx('teams')
    .insert({
      id: newId(), create_at: now, update_at: now, name: input.name, display_name: input.display_name, type: input.type,
      description: input.description ?? '', invite_id: newId(), allow_open_invite: input.allow_open_invite ?? input.type === 'O',
    })
    .returning('*')) as TeamRow[];
  for (const channel of defaultChannels) {
    await trx('channels').insert({ id: newId(), create_at: now, update_at: now, team_id: team.id, type: 'O', name: channel.name, display_name: channel.display_name, creator_id: actor.userId });
  }
  await addTeamMember(trx, deps, afterCommit, { team, userId: actor.userId, admin: true });
  return team;
}

/** Adds (or re-activates) a team member and joins them to the team's default channels. */
export async function addTeamMember(
  trx: Knex.Transaction,
  deps: TeamDeps,
  afterCommit: AfterCommit,
  props: { team: TeamRow; userId: string; admin?: boolean },
): Promise<TeamMemberRow> {
  const { team, userId } = props;
  const user = await trx('users').where({ id: userId }).first('roles', 'delete_at');
  if (!user || user.delete_at > 0) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  const guest = (user.roles as string).split(' ').includes('system_guest');
  const existing = await getTeamMember(trx, team.id, userId);
  if (existing && existing.delete_at === 0) return existing;
  const row = { team_id: team.id, user_id: userId, scheme_guest: guest, scheme_user: !guest, scheme_admin: Boolean(props.admin) && !guest, delete_at: 0, create_at: nowMs() };
  const [member] = (await trx('team_members').insert(row).onConflict(['team_id', 'user_id']).merge(['delete_at', 'scheme_admin', 'scheme_guest', 'scheme_user']).returning('*')) as TeamMemberRow[];
  if (!guest) {
    const channels = (await trx('channels').where({ team_id: team.id, delete_at: 0 }).whereIn('name', defaultChannels.map((c) => c.name))) as ChannelRow[];
    for (const channel of channels) await addChannelMember(trx, deps.events, afterCommit, { channel, userId, guest });
  }
  afterCommit(() => deps.events.publish({ event: 'added_to_team', data: { team_id: team.id, user_id: userId }, broadcast: { user_id: userId } }));
  return member;
}

/** Removes a member from a team and from every channel of it (closing their channel history). */
export async function removeTeamMember(
  trx: Knex.Transaction,
  deps: TeamDeps,
  afterCommit: AfterCommit,
  props: { team: TeamRow; userId: string; removerId: string },
): Promise<void> {
  const { team, userId } = props;
  const member = await getTeamMember(trx, team.id, userId);
  if (!member || member.delete_at > 0) throw new NotFoundError('app.team.get_member.missing.app_error', 'That user is not a member of the team.');
  const channels = (await trx('channels as c').join('channel_members as cm', 'cm.channel_id', 'c.id').where({ 'c.team_id': team.id, 'cm.user_id': userId }).select('c.*')) as ChannelRow[];
  for (const channel of channels) await removeChannelMember(trx, deps.events, afterCommit, { channel, userId, removerId: props.removerId });
  await trx('team_members').where({ team_id: team.id, user_id: userId }).update({ delete_at: nowMs() });
  afterCommit(() => deps.events.publish({ event: 'leave_team', data: { team_id: team.id, user_id: userId }, broadcast: { team_id: team.id } }));
  afterCommit(() => deps.events.publish({ event: 'leave_team', data: { team_id: team.id, user_id: userId }, broadcast: { user_id: userId } }));
}
