// The API v4 objects the web app reads, with only the fields it uses.

export interface User {
  id: string;
  username: string;
  first_name?: string;
  last_name?: string;
  nickname?: string;
  email?: string;
  roles: string;
  delete_at: number;
  is_bot?: boolean;
}

export interface Team {
  id: string;
  name: string;
  display_name: string;
  type: 'O' | 'I';
  delete_at: number;
}

export type ChannelType = 'O' | 'P' | 'D' | 'G';

export interface Channel {
  id: string;
  team_id: string;
  type: ChannelType;
  name: string;
  display_name: string;
  header: string;
  purpose: string;
  last_post_at: number;
  total_msg_count: number;
  delete_at: number;
}

export interface ChannelMember {
  channel_id: string;
  user_id: string;
  last_viewed_at: number;
  msg_count: number;
  mention_count: number;
}

export interface FileInfo {
  id: string;
  name: string;
  extension: string;
  size: number;
  mime_type: string;
  width: number;
  height: number;
  has_preview_image: boolean;
}

export interface Reaction {
  user_id: string;
  post_id: string;
  emoji_name: string;
  create_at: number;
}

export interface Post {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  file_ids: string[];
  pending_post_id: string;
  reply_count: number;
  metadata?: { reactions?: Reaction[]; files?: FileInfo[] };
}

export interface PostList {
  order: string[];
  posts: Record<string, Post>;
  next_post_id: string;
  prev_post_id: string;
  has_next: boolean;
}

/** `GET /config/client?format=old`: every value is a string, as in Mattermost. */
export type ClientConfig = Record<string, string>;

/** A Mattermost error body. */
export interface AppErrorBody {
  id: string;
  message: string;
  status_code: number;
  request_id?: string;
}
