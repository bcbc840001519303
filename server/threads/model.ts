import { presentPost, type PostRow } from '../posts/model.ts';

/** A followed thread as one user sees it: the root post joined to that user's membership. */
export interface UserThreadRow extends PostRow {
  team_id: string;
  following: boolean;
  last_viewed: number;
  last_updated: number;
  unread_mentions: number;
  unread_replies: number;
}

/** Counts shown with a list of threads (Mattermost's Threads totals). */
export interface ThreadTotals {
  total: number;
  total_unread_threads: number;
  total_unread_mentions: number;
}

/**
 * The UserThread object of API v4. `participants` are ids, or users when the caller asked for them
 * (`extended`) and may see them.
 */
export function presentUserThread(row: UserThreadRow, participants: Record<string, unknown>[]): Record<string, unknown> {
  return {
    id: row.id,
    reply_count: row.reply_count,
    last_reply_at: row.last_reply_at,
    last_viewed_at: row.last_viewed,
    participants,
    post: presentPost(row),
    unread_replies: row.unread_replies,
    unread_mentions: row.unread_mentions,
    is_following: row.following,
    is_urgent: false,
    delete_at: row.delete_at,
  };
}
