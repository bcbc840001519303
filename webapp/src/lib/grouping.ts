// Turns a channel's posts into the rows of the message list: a date separator whenever the day
// changes, and consecutive posts by the same person within a few minutes drawn as one group (only
// the first shows the name and avatar).

import type { Post } from '../api/types.ts';

export type MessageRow =
  | { kind: 'date'; key: string; day: number }
  | { kind: 'post'; key: string; post: Post; continuation: boolean };

/** Posts closer than this to the previous one by the same person join its group. */
export const GROUP_WINDOW_MS = 5 * 60_000;

/** Local midnight of the day `time` falls on. */
export function dayOf(time: number): number {
  const d = new Date(time);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** System messages, webhook posts with their own name, and deleted posts never group. */
function standalone(post: Post): boolean {
  return post.type.startsWith('system_') || post.props?.override_username !== undefined || post.delete_at > 0;
}

/** True when `post` continues the group that `previous` belongs to. */
export function continuesGroup(previous: Post | undefined, post: Post, windowMs = GROUP_WINDOW_MS): boolean {
  if (!previous) return false;
  if (previous.user_id !== post.user_id) return false;
  if (standalone(previous) || standalone(post)) return false;
  if (dayOf(previous.create_at) !== dayOf(post.create_at)) return false;
  return post.create_at - previous.create_at <= windowMs && post.create_at >= previous.create_at;
}

/** The rows for `posts`, which must be oldest first. */
export function buildMessageRows(posts: readonly Post[], windowMs = GROUP_WINDOW_MS): MessageRow[] {
  const rows: MessageRow[] = [];
  let previous: Post | undefined;
  let currentDay = -1;
  for (const post of posts) {
    const day = dayOf(post.create_at);
    if (day !== currentDay) {
      rows.push({ kind: 'date', key: `date-${day}`, day });
      currentDay = day;
      previous = undefined;
    }
    rows.push({ kind: 'post', key: post.pending_post_id && post.id.startsWith('pending:') ? post.pending_post_id : post.id, post, continuation: continuesGroup(previous, post, windowMs) });
    previous = post;
  }
  return rows;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Intl formatters are expensive to create; a message list needs the same few over and over. */
function formatter(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f;
}

/** "Today", "Yesterday", "Monday, March 3", or "March 3, 2024" for other years. */
export function dateLabel(day: number, now: number, locale?: string): string {
  const today = dayOf(now);
  if (day === today) return 'Today';
  if (day === dayOf(today - 12 * 3600_000)) return 'Yesterday';
  const d = new Date(day);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  const withinWeek = today - day < 6 * 86_400_000 && day < today;
  if (withinWeek) return formatter(locale, { weekday: 'long', month: 'long', day: 'numeric' }).format(d);
  return formatter(locale, sameYear ? { weekday: 'short', month: 'long', day: 'numeric' } : { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}

/** "14:05" style time of a post, in the reader's locale. */
export function timeLabel(time: number, locale?: string): string {
  return formatter(locale, { hour: 'numeric', minute: '2-digit' }).format(time);
}

/** Date and time in full, for tooltips. */
export function fullTimeLabel(time: number, locale?: string): string {
  return formatter(locale, { dateStyle: 'full', timeStyle: 'short' }).format(time);
}
