import type { ServerEvent } from './events.ts';

/**
 * Events after which cached channel/team membership may be wrong. Their data or broadcast names the
 * channel, team and user concerned (Mattermost's shapes; `channel_member_updated` carries the member
 * as a JSON string in `data.channelMember`).
 */
export const MEMBERSHIP_EVENTS: ReadonlySet<string> = new Set([
  'user_added',
  'user_removed',
  'channel_created',
  'channel_deleted',
  'channel_restored',
  'channel_converted',
  'channel_member_updated',
  'added_to_team',
  'leave_team',
  'update_team',
  'delete_team',
  'restore_team',
]);

export interface MembershipChange {
  channelIds: string[];
  teamIds: string[];
  userIds: string[];
}

/** The channels, teams and users whose membership an event may have changed; undefined for other events. */
export function membershipChanges(event: ServerEvent): MembershipChange | undefined {
  if (!MEMBERSHIP_EVENTS.has(event.event)) return undefined;
  const channels = new Set<string>();
  const teams = new Set<string>();
  const users = new Set<string>();
  const add = (set: Set<string>, value: unknown) => {
    if (typeof value === 'string' && value) set.add(value);
  };
  const data = event.data ?? {};
  const broadcast = event.broadcast ?? {};
  add(channels, data.channel_id);
  add(channels, broadcast.channel_id);
  add(teams, data.team_id);
  add(teams, broadcast.team_id);
  add(users, data.user_id);
  add(users, broadcast.user_id);
  const member = objectOf(data.channelMember ?? data.channel_member);
  if (member) {
    add(channels, member.channel_id);
    add(users, member.user_id);
  }
  const channel = objectOf(data.channel);
  if (channel) {
    add(channels, channel.id);
    add(teams, channel.team_id);
  }
  const team = objectOf(data.team);
  if (team) add(teams, team.id);
  return { channelIds: [...channels], teamIds: [...teams], userIds: [...users] };
}

/** Sent to a user whose system roles changed (Mattermost's shape: `data.roles` is space-separated). */
export function userRoleUpdated(userId: string, roles: Iterable<string>): ServerEvent {
  return { event: 'user_role_updated', data: { user_id: userId, roles: [...roles].join(' ') }, broadcast: { user_id: userId } };
}

/** The user whose system_admin standing a `user_role_updated` event sets; undefined for other events. */
export function rolesChange(event: ServerEvent): { userId: string; systemAdmin: boolean } | undefined {
  if (event.event !== 'user_role_updated') return undefined;
  const { user_id: userId, roles } = event.data ?? {};
  if (typeof userId !== 'string' || typeof roles !== 'string') return undefined;
  return { userId, systemAdmin: roles.split(/\s+/).includes('system_admin') };
}

/** An object, or one serialised as a JSON string (Mattermost sends several that way). */
function objectOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
