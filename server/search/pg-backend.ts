// The PostgreSQL search backend: the posts and post_versions tables are the index (their stored
// tsvectors and GIN indexes are kept by PostgreSQL itself), so indexing is a no-op.
import type { Knex } from 'knex';
import type { BackendQuery, BackendResult, SearchBackend, SearchDocument } from './backend.ts';
import { tsquerySql } from './text-query.ts';

/** The rows a query matches, as a UNION of current posts and prior versions whose text changed. */
function matchSql(q: BackendQuery): { sql: string; bindings: Knex.RawBinding[] } {
  const text = q.text ? tsquerySql(q.text) : undefined;
  const filters = (fileIds: string) => {
    const parts: string[] = ["p.type NOT LIKE 'system\\_%'"];
    const bindings: Knex.RawBinding[] = [];
    const add = (sql: string, ...b: Knex.RawBinding[]) => {
      parts.push(sql);
      bindings.push(...b);
    };
    if (!q.includeDeleted) add('p.delete_at = 0');
    if (q.channelIds) add('p.channel_id = ANY(?::varchar[])', q.channelIds);
    if (q.excludeChannelIds?.length) add('NOT (p.channel_id = ANY(?::varchar[]))', q.excludeChannelIds);
    if (q.teamIds) add('p.channel_id IN (SELECT id FROM channels WHERE team_id = ANY(?::varchar[]))', q.teamIds);
    if (q.userIds) add('p.user_id = ANY(?::varchar[])', q.userIds);
    if (q.excludeUserIds?.length) add('NOT (p.user_id = ANY(?::varchar[]))', q.excludeUserIds);
    if (q.from !== undefined) add('p.create_at >= ?', q.from);
    if (q.to !== undefined) add('p.create_at < ?', q.to);
    if (q.hasFile) add(`jsonb_array_length(${fileIds}) > 0`);
    return { sql: parts.join(' AND '), bindings };
  };
  const current = filters('p.file_ids');
  let sql = `SELECT p.id AS post_id, 0::bigint AS version_id, p.create_at FROM posts p WHERE ${current.sql}${text ? ` AND p.search_vector @@ ${text.sql}` : ''}`;
  const bindings: Knex.RawBinding[] = [...current.bindings, ...(text?.bindings ?? [])];
  if (q.includeVersions) {
    const prior = filters('v.file_ids');
    sql += ` UNION ALL SELECT v.post_id, v.id, p.create_at FROM post_versions v JOIN posts p ON p.id = v.post_id
             WHERE v.reason = 'edit' AND ${prior.sql}${text ? ` AND v.search_vector @@ ${text.sql}` : ''}
               AND v.message IS DISTINCT FROM COALESCE((SELECT v2.message FROM post_versions v2 WHERE v2.post_id = v.post_id AND v2.id > v.id ORDER BY v2.id LIMIT 1), p.message)`;
    bindings.push(...prior.bindings, ...(text?.bindings ?? []));
  }
  return { sql, bindings };
}

export class PostgresSearchBackend implements SearchBackend {
  readonly name = 'postgresql';
  private readonly db: Knex | Knex.Transaction;

  constructor(db: Knex | Knex.Transaction) {
    this.db = db;
  }

  async search(q: BackendQuery): Promise<BackendResult> {
    const match = matchSql(q);
    const { rows } = await this.db.raw(
      `SELECT post_id, version_id, count(*) OVER () AS total FROM (${match.sql}) x
       ORDER BY create_at DESC, post_id DESC, (version_id = 0) DESC, version_id DESC LIMIT ? OFFSET ?`,
      [...match.bindings, q.limit, q.offset],
    );
    let total = rows.length ? Number(rows[0].total) : 0;
    if (rows.length === 0 && q.offset > 0) total = Number((await this.db.raw(`SELECT count(*) AS n FROM (${match.sql}) x`, match.bindings)).rows[0].n);
    return { total, hits: rows.map((r: { post_id: string; version_id: string }) => ({ post_id: r.post_id, version_id: Number(r.version_id) })) };
  }

  async index(_documents: SearchDocument[]): Promise<void> {}

  async removePosts(_postIds: string[]): Promise<void> {}

  async refresh(): Promise<void> {}
}
