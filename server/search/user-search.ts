// User search (`POST /teams/{team_id}/posts/search`) through the external search index when one is in
// use, else PostgreSQL (post-search.ts). The index answers which posts match; the posts themselves
// are read from PostgreSQL, which also checks again that each is in a channel the searcher may read
// and not deleted (the index may lag a moment behind).
import type { Knex } from 'knex';
import type { PostRow } from '../posts/model.ts';
import type { BackendQuery } from './backend.ts';
import { dateRange, hasNoCriteria, POST_COLUMNS, searchPosts, type PostSearchQuery } from './post-search.ts';
import type { SearchIndex } from './search-index.ts';
import type { ParsedSearch } from './terms.ts';
import type { TextNode } from './text-query.ts';

/** The text tree of Mattermost's terms: words, phrases and prefixes by AND (or OR), minus excluded words. */
export function userTextQuery(s: ParsedSearch, isOrSearch: boolean): TextNode | undefined {
  const positive: TextNode[] = [
    ...s.words.map((text): TextNode => ({ type: 'word', text })),
    ...s.phrases.map((text): TextNode => ({ type: 'phrase', text })),
    ...s.prefixes.map((text): TextNode => ({ type: 'prefix', text })),
  ];
  const excluded = s.excluded.map((text): TextNode => ({ type: 'not', item: { type: 'word', text } }));
  const joined: TextNode[] = positive.length > 1 ? [{ type: isOrSearch ? 'or' : 'and', items: positive }] : positive;
  const items = [...joined, ...excluded];
  return items.length === 0 ? undefined : items.length === 1 ? items[0] : { type: 'and', items };
}

async function userIds(db: Knex, usernames: string[]): Promise<string[]> {
  return ((await db('users').whereRaw('lower(username) = ANY(?)', [usernames]).select('id')) as { id: string }[]).map((r) => r.id);
}

/** Searches posts as `searchPosts` does, through `index` when it is in use and can express the terms. */
export async function searchUserPosts(db: Knex, index: SearchIndex | undefined, q: PostSearchQuery): Promise<{ rows: PostRow[]; hasNext: boolean }> {
  const s = q.search;
  // Hashtags are matched on the hashtags column, which the index does not hold.
  if (!index?.inUse() || s.hashtags.length > 0 || hasNoCriteria(s)) return searchPosts(db, q);
  const channelIds = ((await q.channelScope) as { id: string }[]).map((r) => r.id);
  if (channelIds.length === 0) return { rows: [], hasNext: false };
  const query: BackendQuery = {
    text: userTextQuery(s, q.isOrSearch),
    channelIds,
    ...(s.fromUsers.length ? { userIds: await userIds(db, s.fromUsers) } : {}),
    ...(s.excludedFromUsers.length ? { excludeUserIds: await userIds(db, s.excludedFromUsers) } : {}),
    ...dateRange(s, q.timeZoneOffsetSeconds),
    includeDeleted: false,
    includeVersions: false,
    offset: q.page * q.perPage,
    limit: q.perPage + 1,
  };
  const found = await index.search(db, query);
  const ids = found.hits.map((h) => h.post_id);
  const rows = ids.length
    ? ((await db('posts as p').select(...POST_COLUMNS).whereIn('p.id', ids).andWhere('p.delete_at', 0).whereIn('p.channel_id', channelIds)) as PostRow[])
    : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = ids.flatMap((id) => byId.get(id) ?? []);
  return { rows: ordered.slice(0, q.perPage), hasNext: ids.length > q.perPage };
}
