/** A posts row. */
export interface PostRow {
  id: string;
  create_at: number;
  update_at: number;
  edit_at: number;
  delete_at: number;
  is_pinned: boolean;
  user_id: string;
  channel_id: string;
  root_id: string;
  original_id: string;
  message: string;
  type: string;
  props: Record<string, unknown>;
  hashtags: string;
  file_ids: string[];
  pending_post_id: string;
  reply_count: number;
  last_reply_at: number;
}

export interface ReactionRow {
  user_id: string;
  post_id: string;
  emoji_name: string;
  channel_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/**
 * The columns of a PostRow. Reads list them rather than `*`: posts.search_vector is computed from
 * the message on every read that selects it (a virtual column), and only search needs it.
 */
export const postColumns = ['id', 'create_at', 'update_at', 'edit_at', 'delete_at', 'is_pinned', 'user_id', 'channel_id', 'root_id', 'original_id', 'message', 'type', 'props', 'hashtags', 'file_ids', 'pending_post_id', 'reply_count', 'last_reply_at'];

/** Mattermost's limit on a message, in characters (runes). */
export const MAX_MESSAGE_CHARS = 16383;

export function presentReaction(r: ReactionRow): Record<string, unknown> {
  return { user_id: r.user_id, post_id: r.post_id, emoji_name: r.emoji_name, create_at: r.create_at, update_at: r.update_at, delete_at: r.delete_at, remote_id: '', channel_id: r.channel_id };
}

/** Extra data shown with a post: its reactions and file infos, when loaded. */
export interface PostMetadata {
  reactions?: ReactionRow[];
  files?: Record<string, unknown>[];
}

/** The Post object of API v4. A deleted post keeps its id and times but shows no content. */
export function presentPost(row: PostRow, metadata: PostMetadata = {}): Record<string, unknown> {
  const deleted = row.delete_at > 0;
  const meta: Record<string, unknown> = {};
  if (!deleted && metadata.reactions?.length) meta.reactions = metadata.reactions.map(presentReaction);
  if (!deleted && metadata.files?.length) meta.files = metadata.files;
  return {
    id: row.id,
    create_at: row.create_at,
    update_at: row.update_at,
    edit_at: row.edit_at,
    delete_at: row.delete_at,
    is_pinned: row.is_pinned,
    user_id: row.user_id,
    channel_id: row.channel_id,
    root_id: row.root_id,
    original_id: row.original_id,
    message: deleted ? '' : row.message,
    type: row.type,
    props: deleted ? {} : row.props,
    hashtags: deleted ? '' : row.hashtags,
    file_ids: deleted ? [] : row.file_ids,
    pending_post_id: row.pending_post_id,
    reply_count: row.reply_count,
    last_reply_at: row.last_reply_at,
    participants: null,
    has_reactions: Boolean(metadata.reactions?.length),
    metadata: meta,
  };
}
