import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { Permission } from '../auth/permissions.ts';
import { authorize, type MembershipFlags, type Resource } from '../auth/policy.ts';
import { prepared } from '../db/prepared.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { ChannelRow } from './model.ts';

/** A channel with the actor's memberships in it and in its team, ready for `authorize`. */
export interface ChannelAccess {
  channel: ChannelRow;
  channelMember?: MembershipFlags & { last_viewed_at: number; msg_count: number; mention_count: number };
  teamMember?: MembershipFlags;
  resource: Resource;
}

// Fixed SQL text rather than the query builder: this runs on nearly every request.
const accessQuery = `
  SELECT c.*, to_jsonb(cm) AS channel_member, to_jsonb(tm) AS team_member
  FROM channels c
  LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ?
  LEFT JOIN team_members tm ON tm.team_id = c.team_id AND tm.user_id = ?
  WHERE c.id = ?`;

/** Loads a channel and the actor's memberships in one round trip; 404 when the channel does not exist. */
export async function loadChannelAccess(db: Knex | Knex.Transaction, actor: Actor, channelId: string): Promise<ChannelAccess> {
  const { rows } = await db.raw(accessQuery, [actor.userId, actor.userId, channelId]).options(prepared('channel_access'));
  const row = rows[0];
  if (!row) throw new NotFoundError('app.channel.get.existing.app_error', 'Unable to find the existing channel.');
  const { channel_member, team_member, ...channel } = row;
  const channelMember = channel_member ?? undefined;
  const teamMember = team_member ?? undefined;
  return {
    channel: channel as ChannelRow,
    channelMember,
    teamMember,
    resource: { kind: 'channel', channelType: channel.type, channelMember, teamMember },
  };
}

/** Loads the channel and checks `permission` on it in one call. */
export async function authorizeChannel(db: Knex | Knex.Transaction, actor: Actor, channelId: string, permission: Permission): Promise<ChannelAccess> {
  const access = await loadChannelAccess(db, actor, channelId);
  authorize(actor, permission, access.resource);
  return access;
}
