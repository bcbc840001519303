// eDiscovery through the external search index (OpenSearch) when it is in use: the query becomes a
// BackendQuery (usernames and channel names resolved here), the index answers which posts and prior
// versions match, in order, with the total; the page's rows, snippets and names come from
// PostgreSQL. Custodian and hold scope stay on PostgreSQL: their coverage is one SQL definition
// (compliance/holds/coverage.ts) over membership history the index does not hold.
import type { Knex } from 'knex';
import type { BackendHit, BackendQuery } from '../../server/search/backend.ts';
import { dateRange } from '../../server/search/post-search.ts';
import type { Sql } from '../holds/coverage.ts';
import type { ResolvedSearch } from './search.ts';

type Db = Knex | Knex.Transaction;

async function ids(db: Db, sql: string, values: string[]): Promise<string[]> {
  return values.length ? ((await db.raw(sql, [values, values])).rows as { id: string }[]).map((r) => r.id) : [];
}

// As filterSql in search.ts: from: names users, in: names channels by name or id.
const USERS = 'SELECT id FROM users WHERE lower(username) = ANY(?::text[]) AND cardinality(?::text[]) > 0';
const CHANNELS = 'SELECT id FROM channels WHERE lower(name) = ANY(?::text[]) OR id = ANY(?::text[])';

const intersect = (a: string[] | undefined, b: string[]) => (a ? a.filter((x) => b.includes(x)) : b);

/** The search as a backend query, or undefined when it needs PostgreSQL (custodian or hold scope). */
export async function backendQueryOf(db: Db, s: ResolvedSearch): Promise<Omit<BackendQuery, 'offset' | 'limit'> | undefined> {
  if (s.custodianIds.length || s.holdIds.length) return undefined;
  const f = s.query.filters;
  let channelIds: string[] | undefined;
  if (f.inChannels.length) channelIds = await ids(db, CHANNELS, f.inChannels);
  if (s.request.channel_ids.length) channelIds = intersect(channelIds, s.request.channel_ids);
  return {
    text: s.query.text,
    ...(channelIds ? { channelIds } : {}),
    ...(f.excludedInChannels.length ? { excludeChannelIds: await ids(db, CHANNELS, f.excludedInChannels) } : {}),
    ...(s.request.team_ids.length ? { teamIds: s.request.team_ids } : {}),
    ...(f.fromUsers.length ? { userIds: await ids(db, USERS, f.fromUsers) } : {}),
    ...(f.excludedFromUsers.length ? { excludeUserIds: await ids(db, USERS, f.excludedFromUsers) } : {}),
    ...dateRange(f, s.request.time_zone_offset),
    ...(s.query.hasFile ? { hasFile: true } : {}),
    includeDeleted: s.request.include_deleted,
    includeVersions: s.request.include_versions,
  };
}

/** The rows of these hits (posts as they are now, or prior versions), in the hits' order (`ord`). */
export function rowsOfHits(hits: BackendHit[]): Sql {
  const postIds = hits.map((h) => h.post_id);
  const versionIds = hits.map((h) => h.version_id);
  const list = 'unnest(?::varchar[], ?::bigint[]) WITH ORDINALITY AS i(post_id, version_id, ord)';
  return {
    sql: `SELECT i.ord, p.id AS post_id, 0::bigint AS version_id, p.message, p.create_at, p.create_at AS version_at, 0::bigint AS replaced_at,
            p.edit_at, p.delete_at, p.user_id, p.channel_id, p.root_id, p.is_pinned, p.file_ids
          FROM ${list} JOIN posts p ON p.id = i.post_id WHERE i.version_id = 0
          UNION ALL
          SELECT i.ord, v.post_id, v.id, v.message, p.create_at, v.version_create_at, v.replaced_at,
            p.edit_at, p.delete_at, p.user_id, p.channel_id, p.root_id, v.is_pinned, v.file_ids
          FROM ${list} JOIN post_versions v ON v.id = i.version_id AND v.post_id = i.post_id JOIN posts p ON p.id = v.post_id`,
    bindings: [postIds, versionIds, postIds, versionIds],
  };
}
