// The OpenSearch backend, for sites whose posts outgrow one PostgreSQL's full-text search: one index
// of posts and prior versions (English analyzer, as PostgreSQL's 'english' configuration), bulk
// indexing, and the text tree translated into the query DSL. PostgreSQL stays the record: the index
// is rebuilt from it (`reindexFromDatabase`, `custodian search reindex`), and the retention purge
// removes what it deletes.
import type { Knex } from 'knex';
import { Client } from '@opensearch-project/opensearch';
import type { BackendQuery, BackendResult, SearchBackend, SearchDocument } from './backend.ts';
import { prefixOperand, type TextNode } from './text-query.ts';

type Query = Record<string, unknown>;

const mapping = {
  settings: { number_of_shards: 1, analysis: { analyzer: { default: { type: 'english' } } } },
  mappings: {
    dynamic: 'strict',
    properties: {
      post_id: { type: 'keyword' },
      version_id: { type: 'long' },
      current: { type: 'integer' },
      message: { type: 'text', analyzer: 'english' },
      channel_id: { type: 'keyword' },
      team_id: { type: 'keyword' },
      user_id: { type: 'keyword' },
      root_id: { type: 'keyword' },
      create_at: { type: 'long' },
      delete_at: { type: 'long' },
      has_file: { type: 'boolean' },
    },
  },
};

/** The query DSL of a text tree (what PostgreSQL's tsquery of the same tree matches). */
export function textQueryDsl(node: TextNode): Query {
  switch (node.type) {
    case 'word':
      return { match: { message: { query: node.text, operator: 'and' } } };
    case 'phrase':
      return { match_phrase: { message: node.text } };
    case 'prefix': {
      const operand = prefixOperand(node.text);
      return operand ? { prefix: { message: { value: operand.toLowerCase() } } } : { bool: { must_not: [{ match_all: {} }] } };
    }
    case 'not':
      return { bool: { must_not: [textQueryDsl(node.item)] } };
    case 'and':
      return { bool: { must: node.items.map(textQueryDsl) } };
    default:
      return { bool: { should: node.items.map(textQueryDsl), minimum_should_match: 1 } };
  }
}

/** The whole search request body of a backend query. */
export function searchBody(q: BackendQuery): Record<string, unknown> {
  const filter: Query[] = [];
  const mustNot: Query[] = [];
  if (!q.includeDeleted) filter.push({ term: { delete_at: 0 } });
  if (!q.includeVersions) filter.push({ term: { current: 1 } });
  if (q.channelIds) filter.push({ terms: { channel_id: q.channelIds } });
  if (q.teamIds) filter.push({ terms: { team_id: q.teamIds } });
  if (q.excludeChannelIds?.length) mustNot.push({ terms: { channel_id: q.excludeChannelIds } });
  if (q.userIds) filter.push({ terms: { user_id: q.userIds } });
  if (q.excludeUserIds?.length) mustNot.push({ terms: { user_id: q.excludeUserIds } });
  if (q.from !== undefined || q.to !== undefined) filter.push({ range: { create_at: { ...(q.from !== undefined ? { gte: q.from } : {}), ...(q.to !== undefined ? { lt: q.to } : {}) } } });
  if (q.hasFile) filter.push({ term: { has_file: true } });
  return {
    query: { bool: { ...(q.text ? { must: [textQueryDsl(q.text)] } : {}), filter, must_not: mustNot } },
    sort: [{ create_at: 'desc' }, { post_id: 'desc' }, { current: 'desc' }, { version_id: 'desc' }],
    from: q.offset,
    size: q.limit,
    track_total_hits: true,
    _source: ['post_id', 'version_id'],
  };
}

export class OpenSearchBackend implements SearchBackend {
  readonly name = 'opensearch';
  readonly index_: string;
  private readonly client: Client;

  constructor(options: { url: string; index: string }) {
    // A search request waits for a failing cluster only briefly: the caller falls back to PostgreSQL.
    this.client = new Client({ node: options.url, requestTimeout: 10_000, maxRetries: 1 });
    this.index_ = options.index;
  }

  /** Creates the index with its mapping when it does not exist. */
  async ensureIndex(): Promise<void> {
    const exists = await this.client.indices.exists({ index: this.index_ });
    if (!exists.body) await this.client.indices.create({ index: this.index_, body: mapping as never });
  }

  /** Drops the index (a full reindex starts from nothing). */
  async dropIndex(): Promise<void> {
    await this.client.indices.delete({ index: this.index_, ignore_unavailable: true } as never);
  }

  async search(q: BackendQuery): Promise<BackendResult> {
    const res = await this.client.search({ index: this.index_, body: searchBody(q) as never });
    const hits = res.body.hits;
    const total = typeof hits.total === 'number' ? hits.total : (hits.total?.value ?? 0);
    return { total, hits: hits.hits.map((h) => ({ post_id: String((h._source as SearchDocument).post_id), version_id: Number((h._source as SearchDocument).version_id) })) };
  }

  async index(documents: SearchDocument[]): Promise<void> {
    if (documents.length === 0) return;
    const body = documents.flatMap((d) => [
      { index: { _index: this.index_, _id: d.version_id ? `${d.post_id}:${d.version_id}` : d.post_id } },
      { ...d, current: d.version_id ? 0 : 1 },
    ]);
    const res = await this.client.bulk({ body });
    if (res.body.errors) {
      const first = res.body.items.find((i) => Object.values(i)[0]?.error);
      throw new Error(`OpenSearch bulk indexing failed: ${JSON.stringify(first ? Object.values(first)[0]?.error : res.body.items[0])}`);
    }
  }

  async removePosts(postIds: string[]): Promise<void> {
    if (postIds.length === 0) return;
    await this.client.deleteByQuery({ index: this.index_, body: { query: { terms: { post_id: postIds } } }, conflicts: 'proceed', refresh: false } as never);
  }

  async refresh(): Promise<void> {
    await this.client.indices.refresh({ index: this.index_ });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The documents of these posts as the backends index them: each post and its prior versions whose text changed. */
export async function documentsFor(db: Knex | Knex.Transaction, postIds: string[]): Promise<SearchDocument[]> {
  if (postIds.length === 0) return [];
  const { rows } = await db.raw(
    `SELECT p.id AS post_id, 0::bigint AS version_id, p.message, p.channel_id, coalesce(c.team_id, '') AS team_id, p.user_id, p.root_id, p.create_at, p.delete_at,
            jsonb_array_length(p.file_ids) > 0 AS has_file
     FROM posts p LEFT JOIN channels c ON c.id = p.channel_id WHERE p.id = ANY(?::varchar[]) AND p.type NOT LIKE 'system\\_%'
     UNION ALL
     SELECT v.post_id, v.id, v.message, p.channel_id, coalesce(c.team_id, ''), p.user_id, p.root_id, p.create_at, p.delete_at, jsonb_array_length(v.file_ids) > 0
     FROM post_versions v JOIN posts p ON p.id = v.post_id LEFT JOIN channels c ON c.id = p.channel_id
     WHERE v.post_id = ANY(?::varchar[]) AND v.reason = 'edit' AND p.type NOT LIKE 'system\\_%'
       AND v.message IS DISTINCT FROM COALESCE((SELECT v2.message FROM post_versions v2 WHERE v2.post_id = v.post_id AND v2.id > v.id ORDER BY v2.id LIMIT 1), p.message)`,
    [postIds, postIds],
  );
  return rows.map((r: Record<string, unknown>) => ({
    post_id: r.post_id, version_id: Number(r.version_id), message: r.message, channel_id: r.channel_id, team_id: r.team_id, user_id: r.user_id,
    root_id: r.root_id, create_at: Number(r.create_at), delete_at: Number(r.delete_at), has_file: Boolean(r.has_file),
  })) as SearchDocument[];
}

/**
 * One step of indexing from PostgreSQL: the next `batchSize` posts after `since` in (update_at, id)
 * order, with their prior versions. Returns where it got to (undefined when there was nothing left)
 * and how many documents it sent.
 */
export async function indexNextBatch(
  db: Knex | Knex.Transaction,
  backend: SearchBackend,
  since: { updateAt: number; id: string },
  batchSize = 2000,
): Promise<{ at?: { updateAt: number; id: string }; documents: number }> {
  const rows = (await db('posts').whereRaw('(update_at, id) > (?, ?)', [since.updateAt, since.id]).orderBy([{ column: 'update_at' }, { column: 'id' }]).limit(batchSize).select('id', 'update_at')) as { id: string; update_at: string }[];
  if (rows.length === 0) return { documents: 0 };
  const docs = await documentsFor(db, rows.map((r) => r.id));
  await backend.index(docs);
  return { at: { updateAt: Number(rows.at(-1)!.update_at), id: rows.at(-1)!.id }, documents: docs.length };
}

/**
 * Rebuilds a backend's index from PostgreSQL, in keyset batches of posts by (update_at, id); also
 * the incremental catch-up: pass `since` (the last (update_at, id) indexed) to index only what
 * changed after it. Returns the position reached.
 */
export async function reindexFromDatabase(
  db: Knex,
  backend: SearchBackend,
  options: { batchSize?: number; since?: { updateAt: number; id: string }; onBatch?: (indexed: number) => void } = {},
): Promise<{ updateAt: number; id: string; documents: number }> {
  let at = options.since ?? { updateAt: -1, id: '' };
  let documents = 0;
  for (;;) {
    const step = await indexNextBatch(db, backend, at, options.batchSize);
    if (!step.at) break;
    documents += step.documents;
    at = step.at;
    options.onBatch?.(documents);
  }
  await backend.refresh();
  return { ...at, documents };
}
