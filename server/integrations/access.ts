import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { Resource } from '../auth/policy.ts';
import { loadChannelAccess, type ChannelAccess } from '../channels/access.ts';
import { invalidParam } from '../lib/errors.ts';
import type { TeamRow } from '../teams/model.ts';
import { getTeam, getTeamMember } from '../teams/service.ts';

/** A team and the actor's (active) membership in it, as a policy resource; 404 when the team does not exist. */
export async function loadTeamResource(db: Knex | Knex.Transaction, actor: Actor, teamId: string): Promise<{ team: TeamRow; resource: Resource }> {
  const team = await getTeam(db, teamId);
  const member = await getTeamMember(db, teamId, actor.userId);
  return { team, resource: { kind: 'team', teamMember: member && member.delete_at === 0 ? member : undefined } };
}

/** The team-scope resource of a channel's team, from memberships already loaded with the channel. */
export function teamResourceOf(access: ChannelAccess): Resource {
  return { kind: 'team', teamMember: access.teamMember };
}

/** A team channel (not a direct or group message) with the actor's memberships; 404 when it does not exist. */
export async function loadTeamChannel(db: Knex | Knex.Transaction, actor: Actor, channelId: string, param = 'channel_id'): Promise<ChannelAccess> {
  const access = await loadChannelAccess(db, actor, channelId);
  if (!access.channel.team_id) throw invalidParam(param, 'direct and group messages belong to no team');
  return access;
}
