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
