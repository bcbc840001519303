import type { Knex } from 'knex';
import type { PostRow } from '../posts/model.ts';
import { hasTextTerms, type ParsedSearch } from './terms.ts';

export interface PostSearchQuery {
  search: ParsedSearch;
  /** Only posts in these channels are searched (the caller decides what the actor may read). */
  channelScope: Knex.QueryBuilder;
  isOrSearch: boolean;
  /** The searcher's offset from UTC in seconds, so on:/before:/after: mean their calendar days. */
  timeZoneOffsetSeconds: number;
  page: number;
  perPage: number;
}

export const DAY_MS = 86_400_000;

/** The columns of a PostRow, as search results load them. */
export const POST_COLUMNS = ['p.id', 'p.create_at', 'p.update_at', 'p.edit_at', 'p.delete_at', 'p.is_pinned', 'p.user_id', 'p.channel_id', 'p.root_id', 'p.original_id', 'p.message', 'p.type', 'p.props', 'p.hashtags', 'p.file_ids', 'p.pending_post_id', 'p.reply_count', 'p.last_reply_at'];

/** The [from, to) epoch-ms range that on:/before:/after: ask for, in the searcher's time zone. */
export function dateRange(s: Pick<ParsedSearch, 'on' | 'before' | 'after'>, offsetSeconds: number): { from?: number; to?: number } {
  const bounds: number[][] = [];
  if (s.on) bounds.push([dayStart(s.on, offsetSeconds), dayStart(s.on, offsetSeconds) + DAY_MS]);
  if (s.before) bounds.push([-Infinity, dayStart(s.before, offsetSeconds)]);
  if (s.after) bounds.push([dayStart(s.after, offsetSeconds) + DAY_MS, Infinity]);
  const from = Math.max(...bounds.map((b) => b[0]));
  const to = Math.min(...bounds.map((b) => b[1]));
  return { ...(Number.isFinite(from) ? { from } : {}), ...(Number.isFinite(to) ? { to } : {}) };
}

/** Start of a calendar day (YYYY-MM-DD) for someone `offsetSeconds` east of UTC, in epoch ms. */
export function dayStart(isoDate: string, offsetSeconds: number): number {
  const [y, m, d] = isoDate.split('-').map(Number);
  return Date.UTC(y, m - 1, d) - offsetSeconds * 1000;
}

/** Keeps only letters and digits of a prefix (a tsquery operand must not carry operators). */
function prefixOperand(prefix: string): string | undefined {
  const clean = prefix.normalize('NFKC').replace(/[^\p{L}\p{N}]/gu, '');
  return clean ? `${clean}:*` : undefined;
}

/** The tsquery for the text terms, as SQL with bindings; undefined when there are none. */
function textQuery(s: ParsedSearch, or: boolean): { sql: string; bindings: string[] } | undefined {
  const parts: string[] = [];
  const bindings: string[] = [];
  for (const w of s.words) {
    parts.push("plainto_tsquery('english', ?)");
    bindings.push(w);
  }
  for (const p of s.phrases) {
    parts.push("phraseto_tsquery('english', ?)");
    bindings.push(p);
  }
  for (const p of s.prefixes) {
    const operand = prefixOperand(p);
    if (!operand) continue;
    parts.push("to_tsquery('english', ?)");
    bindings.push(operand);
  }
  if (parts.length === 0) return undefined;
  return { sql: `(${parts.join(or ? ' || ' : ' && ')})`, bindings };
}

/** True when the terms have nothing to search by (no text, no from:, no in:): nothing is returned. */
export function hasNoCriteria(s: ParsedSearch): boolean {
  return !hasTextTerms(s) && !s.fromUsers.length && !s.inChannels.length;
}

/**
 * Full-text search over posts with PostgreSQL (stored tsvector + GIN): newest first, paged, with
 * Mattermost's filters. Deleted posts are never returned here (compliance search sees versions).
 */
export async function searchPosts(db: Knex, q: PostSearchQuery): Promise<{ rows: PostRow[]; hasNext: boolean }> {
  const s = q.search;
  if (hasNoCriteria(s)) return { rows: [], hasNext: false };
  const query = db('posts as p').select(...POST_COLUMNS)
    .whereIn('p.channel_id', q.channelScope)
    .andWhere('p.delete_at', 0)
    .andWhereNot('p.type', 'like', 'system_%');
  const text = textQuery(s, q.isOrSearch);
  if (text) query.andWhereRaw(`p.search_vector @@ ${text.sql}`, text.bindings);
  for (const excluded of s.excluded) query.andWhereRaw("NOT (p.search_vector @@ plainto_tsquery('english', ?))", [excluded]);
  for (const tag of s.hashtags) query.andWhereRaw("(' ' || lower(p.hashtags) || ' ') LIKE ?", [`% ${tag.replace(/[%_\\]/g, '\\$&')} %`]);
  if (s.fromUsers.length) query.whereIn('p.user_id', db('users').whereRaw('lower(username) = ANY(?)', [s.fromUsers]).select('id'));
  if (s.excludedFromUsers.length) query.whereNotIn('p.user_id', db('users').whereRaw('lower(username) = ANY(?)', [s.excludedFromUsers]).select('id'));
  const offset = q.timeZoneOffsetSeconds;
  if (s.on) query.andWhere('p.create_at', '>=', dayStart(s.on, offset)).andWhere('p.create_at', '<', dayStart(s.on, offset) + DAY_MS);
  if (s.before) query.andWhere('p.create_at', '<', dayStart(s.before, offset));
  if (s.after) query.andWhere('p.create_at', '>=', dayStart(s.after, offset) + DAY_MS);
  const rows = (await query.orderBy([{ column: 'p.create_at', order: 'desc' }, { column: 'p.id', order: 'desc' }]).offset(q.page * q.perPage).limit(q.perPage + 1)) as PostRow[];
  return { rows: rows.slice(0, q.perPage), hasNext: rows.length > q.perPage };
}
