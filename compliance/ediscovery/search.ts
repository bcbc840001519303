// eDiscovery search: every channel (membership does not limit it), current posts and their prior
// versions (edited and deleted content), with Mattermost's filters, custodian and hold scope
// (compliance/holds/coverage.ts), highlighted snippets and a total count. PostgreSQL full-text
// search over the stored tsvectors of posts and post_versions.
import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { InvalidInputError } from '../../server/lib/errors.ts';
import { DAY_MS, dayStart } from '../../server/search/post-search.ts';
import type { SearchIndex } from '../../server/search/search-index.ts';
import { custodianSql, heldSql, type Sql } from '../holds/coverage.ts';
import { findHoldId } from '../holds/service.ts';
import { backendQueryOf, rowsOfHits } from './indexed-search.ts';
import { hasFilters, highlightTerms, parseEdiscoveryQuery, tsquerySql, type EdiscoveryQuery } from './query.ts';

type Db = Knex | Knex.Transaction;

/** What a search asks; the same shape is stored with a saved search. */
export interface SearchRequest {
  terms: string;
  is_or_search: boolean;
  /** The searcher's offset from UTC in seconds: before:/after:/on: are their calendar days. */
  time_zone_offset: number;
  /** Prior versions of edited posts are searched too (default). */
  include_versions: boolean;
  /** Deleted posts are searched too (default). */
  include_deleted: boolean;
  hold_id?: string;
  custodian_ids: string[];
  channel_ids: string[];
  team_ids: string[];
}

/** One hit: a post as it is now (item_type "message") or one of its prior versions ("prior_version"). */
export interface SearchHit {
  id: string;
  item_type: 'message' | 'prior_version';
  /** original, edited or deleted, for a message; prior_version otherwise. */
  state: 'original' | 'edited' | 'deleted' | 'prior_version';
  post_id: string;
  version_id: number;
  message: string;
  /** The message with the matched terms in <mark>…</mark> (the rest HTML-escaped). */
  highlight: string;
  create_at: number;
  /** When this text was written (the post's create or edit time). */
  version_at: number;
  /** When this text was replaced (prior versions), else 0. */
  replaced_at: number;
  edit_at: number;
  delete_at: number;
  user_id: string;
  username: string;
  channel_id: string;
  channel_name: string;
  channel_display_name: string;
  channel_type: string;
  team_id: string;
  team_name: string;
  root_id: string;
  is_pinned: boolean;
  file_ids: string[];
}

export interface SearchResult {
  total_count: number;
  page: number;
  per_page: number;
  has_next: boolean;
  /** Words a client may highlight itself. */
  terms: string[];
  results: SearchHit[];
}

/** Everything a query resolves to before it becomes SQL (names looked up, holds found). */
export interface ResolvedSearch {
  query: EdiscoveryQuery;
  request: SearchRequest;
  custodianIds: string[];
  holdIds: string[];
}

function invalid(message: string, detail = ''): InvalidInputError {
  return new InvalidInputError('api.ediscovery.search.invalid.app_error', message, detail);
}

/** Parses the terms and looks up the usernames and holds they name. */
export async function resolveSearch(db: Db, request: SearchRequest): Promise<ResolvedSearch> {
  const query = parseEdiscoveryQuery(request.terms, { defaultOr: request.is_or_search });
  const scoped = request.custodian_ids.length + request.channel_ids.length + request.team_ids.length > 0 || Boolean(request.hold_id);
  if (!query.text && !hasFilters(query) && !scoped) throw invalid('A search needs terms or filters.');
  let custodianIds = [...request.custodian_ids];
  if (query.custodians.length) {
    const rows = (await db('users').whereRaw('lower(username) = ANY(?)', [query.custodians]).select('id', 'username')) as { id: string; username: string }[];
    const unknown = query.custodians.filter((u) => !rows.some((r) => r.username.toLowerCase() === u));
    if (unknown.length) throw invalid(`Unknown custodian: ${unknown.join(', ')}.`);
    custodianIds = [...custodianIds, ...rows.map((r) => r.id)];
  }
  const holdIds: string[] = [];
  for (const ref of [...query.holds, ...(request.hold_id ? [request.hold_id] : [])]) {
    const id = await findHoldId(db, ref);
    if (!id) throw invalid(`Unknown legal hold: ${ref}.`);
    holdIds.push(id);
  }
  return { query, request, custodianIds: [...new Set(custodianIds)], holdIds: [...new Set(holdIds)] };
}

/** SQL over `p` (the post) and `fileIds` (the row's file list) for every filter of the search. */
function filterSql(s: ResolvedSearch, fileIds: string): Sql {
  const parts: string[] = ["p.type NOT LIKE 'system\\_%'"];
  const bindings: Knex.RawBinding[] = [];
  const add = (sql: string, ...b: Knex.RawBinding[]) => {
    parts.push(sql);
    bindings.push(...b);
  };
  const f = s.query.filters;
  const offset = s.request.time_zone_offset;
  if (!s.request.include_deleted) add('p.delete_at = 0');
  if (f.fromUsers.length) add('p.user_id IN (SELECT id FROM users WHERE lower(username) = ANY(?::text[]))', f.fromUsers);
  if (f.excludedFromUsers.length) add('p.user_id NOT IN (SELECT id FROM users WHERE lower(username) = ANY(?::text[]))', f.excludedFromUsers);
  if (f.inChannels.length) add('p.channel_id IN (SELECT id FROM channels WHERE lower(name) = ANY(?::text[]) OR id = ANY(?::text[]))', f.inChannels, f.inChannels);
  if (f.excludedInChannels.length) add('p.channel_id NOT IN (SELECT id FROM channels WHERE lower(name) = ANY(?::text[]) OR id = ANY(?::text[]))', f.excludedInChannels, f.excludedInChannels);
  if (f.on) add('p.create_at >= ? AND p.create_at < ?', dayStart(f.on, offset), dayStart(f.on, offset) + DAY_MS);
  if (f.before) add('p.create_at < ?', dayStart(f.before, offset));
  if (f.after) add('p.create_at >= ?', dayStart(f.after, offset) + DAY_MS);
  if (s.query.hasFile) add(`jsonb_array_length(${fileIds}) > 0`);
  if (s.request.channel_ids.length) add('p.channel_id = ANY(?::varchar[])', s.request.channel_ids);
  if (s.request.team_ids.length) add('p.channel_id IN (SELECT id FROM channels WHERE team_id = ANY(?::varchar[]))', s.request.team_ids);
  const subject = { user: 'p.user_id', channel: 'p.channel_id', at: 'p.create_at' };
  if (s.custodianIds.length) {
    const c = custodianSql(subject, s.custodianIds);
    add(c.sql, ...c.bindings);
  }
  if (s.holdIds.length) {
    const held = s.holdIds.map((holdId) => heldSql({ ...subject, post: { id: 'p.id', vector: 'p.search_vector' } }, { kind: 'hold', holdId }));
    add(`(${held.map((h) => h.sql).join(' OR ')})`, ...held.flatMap((h) => h.bindings));
  }
  return { sql: parts.join(' AND '), bindings };
}

/** A version row is listed only when its text differs from what replaced it (pins and prop edits add versions too). */
const versionChangedText = `v.message IS DISTINCT FROM COALESCE(
  (SELECT v2.message FROM post_versions v2 WHERE v2.post_id = v.post_id AND v2.id > v.id ORDER BY v2.id LIMIT 1), p.message)`;

/**
 * The hits of a search as one SQL statement (a UNION of current posts and prior versions), newest
 * sent first: used for a page of results and, unpaged, by case exports.
 */
export function hitsSql(s: ResolvedSearch): Sql {
  const text = s.query.text ? tsquerySql(s.query.text) : undefined;
  const current = filterSql(s, 'p.file_ids');
  const prior = filterSql(s, 'v.file_ids');
  const bindings: Knex.RawBinding[] = [...current.bindings, ...(text?.bindings ?? [])];
  let sql = `SELECT p.id AS post_id, 0::bigint AS version_id, p.message, p.create_at, p.create_at AS version_at, 0::bigint AS replaced_at,
       p.edit_at, p.delete_at, p.user_id, p.channel_id, p.root_id, p.is_pinned, p.file_ids
     FROM posts p WHERE ${current.sql}${text ? ` AND p.search_vector @@ ${text.sql}` : ''}`;
  if (s.request.include_versions) {
    sql += `
     UNION ALL
     SELECT v.post_id, v.id, v.message, p.create_at, v.version_create_at, v.replaced_at,
       p.edit_at, p.delete_at, p.user_id, p.channel_id, p.root_id, v.is_pinned, v.file_ids
     FROM post_versions v JOIN posts p ON p.id = v.post_id
     WHERE v.reason = 'edit' AND ${prior.sql}${text ? ` AND v.search_vector @@ ${text.sql}` : ''} AND ${versionChangedText}`;
    bindings.push(...prior.bindings, ...(text?.bindings ?? []));
  }
  return { sql, bindings };
}

const ORDER = 'create_at DESC, post_id DESC, (version_id = 0) DESC, version_id DESC';

// ts_headline drops what its parser takes for HTML tags, so the text it is given has < > & swapped
// for control characters (and any control characters of ours removed); the marks around matches are
// control characters too. markup() turns the result into HTML-escaped text with <mark> elements.
const MARK_START = '\u0002';
const MARK_END = '\u0003';
const headlineInput = "translate(h.message, E'<>&\\x02\\x03\\x04\\x05\\x06', E'\\x04\\x05\\x06')";
const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\u0004': '&lt;', '\u0005': '&gt;', '\u0006': '&amp;' };

function markup(headline: string): string {
  return headline
    // eslint-disable-next-line no-control-regex -- the stand-ins for < > & described above
    .replace(/[&<>"'\u0004\u0005\u0006]/g, (c) => htmlEntities[c])
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>');
}

/** The columns every row of `hitsSql` carries: one version of one post. */
export interface HitVersionRow {
  post_id: string;
  version_id: string;
  message: string;
  create_at: string;
  version_at: string;
  replaced_at: string;
  edit_at: string;
  delete_at: string;
  user_id: string;
  channel_id: string;
  root_id: string;
  file_ids: string[];
}

interface HitRow extends HitVersionRow {
  is_pinned: boolean;
  total: string;
  headline: string | null;
  username: string | null;
  channel_name: string | null;
  channel_display_name: string | null;
  channel_type: string | null;
  team_id: string | null;
  team_name: string | null;
}

export function presentHit(r: Omit<HitRow, 'total'>, headline?: string): SearchHit {
  const versionId = Number(r.version_id);
  const prior = versionId > 0;
  return {
    id: prior ? `${r.post_id}:${versionId}` : r.post_id,
    item_type: prior ? 'prior_version' : 'message',
    state: prior ? 'prior_version' : Number(r.delete_at) > 0 ? 'deleted' : Number(r.edit_at) > 0 ? 'edited' : 'original',
    post_id: r.post_id, version_id: versionId, message: r.message, highlight: headline ?? markup(r.message),
    create_at: Number(r.create_at), version_at: Number(r.version_at), replaced_at: Number(r.replaced_at), edit_at: Number(r.edit_at), delete_at: Number(r.delete_at),
    user_id: r.user_id, username: r.username ?? '', channel_id: r.channel_id, channel_name: r.channel_name ?? '', channel_display_name: r.channel_display_name ?? '',
    channel_type: r.channel_type ?? '', team_id: r.team_id ?? '', team_name: r.team_name ?? '', root_id: r.root_id, is_pinned: r.is_pinned,
    file_ids: Array.isArray(r.file_ids) ? r.file_ids : [],
  };
}

/** Adds snippets, names and the channel's team to a page of hit rows (`page` ordered by `order`). */
function decoratedSql(page: string, order: string, headline: string): string {
  return `SELECT h.*, ${headline} AS headline, u.username, c.name AS channel_name, c.display_name AS channel_display_name, c.type AS channel_type,
            c.team_id, t.name AS team_name
     FROM (${page}) h
     LEFT JOIN users u ON u.id = h.user_id LEFT JOIN channels c ON c.id = h.channel_id LEFT JOIN teams t ON t.id = c.team_id
     ORDER BY ${order}`;
}

/** One page of hit rows and the total: from the search index when it can answer, else PostgreSQL. */
async function pageOfHits(db: Db, resolved: ResolvedSearch, page: { page: number; perPage: number }, headline: { sql: string; bindings: Knex.RawBinding[] }, index?: SearchIndex): Promise<{ rows: HitRow[]; total?: number }> {
  const indexed = index?.inUse() ? await backendQueryOf(db, resolved) : undefined;
  if (index && indexed) {
    const found = await index.search(db, { ...indexed, offset: page.page * page.perPage, limit: page.perPage + 1 });
    const rows = rowsOfHits(found.hits);
    return { rows: (await db.raw(decoratedSql(rows.sql, 'h.ord', headline.sql), [...headline.bindings, ...rows.bindings])).rows as HitRow[], total: found.total };
  }
  const hits = hitsSql(resolved);
  const paged = `SELECT x.*, count(*) OVER () AS total FROM (${hits.sql}) x ORDER BY ${ORDER} LIMIT ? OFFSET ?`;
  const rows = (await db.raw(decoratedSql(paged, ORDER, headline.sql), [...headline.bindings, ...hits.bindings, page.perPage + 1, page.page * page.perPage])).rows as HitRow[];
  if (rows.length) return { rows, total: Number(rows[0].total) };
  return { rows, total: page.page > 0 ? Number((await db.raw(`SELECT count(*) AS n FROM (${hits.sql}) x`, hits.bindings)).rows[0].n) : 0 };
}

/** Runs a search (the caller audits it, in the same transaction); through `index` when one is in use. */
export async function ediscoverySearch(db: Db, actor: Actor, request: SearchRequest, page: { page: number; perPage: number }, index?: SearchIndex): Promise<SearchResult> {
  authorize(actor, 'ediscovery_search', { kind: 'system' });
  const resolved = await resolveSearch(db, request);
  const text = resolved.query.text ? tsquerySql(resolved.query.text) : undefined;
  const headline = text
    ? { sql: `ts_headline('english', ${headlineInput}, ${text.sql}, 'StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=40, MinWords=15')`, bindings: text.bindings }
    : { sql: 'NULL', bindings: [] };
  const { rows, total } = await pageOfHits(db, resolved, page, headline, index);
  return {
    total_count: total ?? 0,
    page: page.page,
    per_page: page.perPage,
    has_next: rows.length > page.perPage,
    terms: highlightTerms(resolved.query.text),
    results: rows.slice(0, page.perPage).map((r) => presentHit(r, r.headline === null ? undefined : markup(r.headline))),
  };
}
