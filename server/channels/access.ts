import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { Permission } from '../auth/permissions.ts';
import { authorize, type MembershipFlags, type Resource } from '../auth/policy.ts';
import { NotFoundError } from '../lib/errors.ts';
import type { ChannelRow } from './model.ts';

/** A channel with the actor's memberships in it and in its team, ready for `authorize`. */
export interface ChannelAccess {
  channel: ChannelRow;
  channelMember?: MembershipFlags & { last_viewed_at: number; msg_count: number; mention_count: number };
  teamMember?: MembershipFlags;
  resource: Resource;
}

/** Loads a channel and the actor's memberships in one round trip; 404 when the channel does not exist. */
export async function loadChannelAccess(db: Knex | Knex.Transaction, actor: Actor, channelId: string): Promise<ChannelAccess> {
  const row = await db('channels as c')
    .leftJoin('channel_members as cm', (j) => j.on('cm.channel_id', 'c.id').andOnVal('cm.user_id', actor.userId))
    .leftJoin('team_members as tm', (j) => j.on('tm.team_id', 'c.team_id').andOnVal('tm.user_id', actor.userId))
    .where('c.id', channelId)
    .first(
      'c.*',
      db.raw('to_jsonb(cm) AS channel_member'),
      db.raw('to_jsonb(tm) AS team_member'),
    );
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
