import { membershipRoles } from '../teams/model.ts';

/** A channels row. Types: O open, P private, D direct, G group. */
export interface ChannelRow {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  team_id: string;
  type: 'O' | 'P' | 'D' | 'G';
  display_name: string;
  name: string;
  header: string;
  purpose: string;
  last_post_at: number;
  last_root_post_at: number;
  total_msg_count: number;
  total_msg_count_root: number;
  creator_id: string;
  group_constrained: boolean;
}

export interface ChannelMemberRow {
  channel_id: string;
  user_id: string;
  roles: string;
  last_viewed_at: number;
  msg_count: number;
  msg_count_root: number;
  mention_count: number;
  mention_count_root: number;
  notify_props: Record<string, string>;
  last_update_at: number;
  scheme_user: boolean;
  scheme_admin: boolean;
  scheme_guest: boolean;
}

/** The Channel object of API v4. */
export function presentChannel(row: ChannelRow): Record<string, unknown> {
  return {
    id: row.id, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at, team_id: row.team_id,
    type: row.type, display_name: row.display_name, name: row.name, header: row.header, purpose: row.purpose,
    last_post_at: row.last_post_at, last_root_post_at: row.last_root_post_at, total_msg_count: row.total_msg_count,
    total_msg_count_root: row.total_msg_count_root, extra_update_at: 0, creator_id: row.creator_id, scheme_id: null,
    props: null, group_constrained: row.group_constrained, shared: false, policy_id: null,
  };
}

/** The ChannelMember object of API v4. */
export function presentChannelMember(row: ChannelMemberRow): Record<string, unknown> {
  return {
    channel_id: row.channel_id, user_id: row.user_id, roles: membershipRoles('channel', row), last_viewed_at: row.last_viewed_at,
    msg_count: row.msg_count, mention_count: row.mention_count, mention_count_root: row.mention_count_root,
    urgent_mention_count: 0, msg_count_root: row.msg_count_root, notify_props: row.notify_props, last_update_at: row.last_update_at,
    scheme_guest: row.scheme_guest, scheme_user: row.scheme_user, scheme_admin: row.scheme_admin, explicit_roles: row.roles,
  };
}
