import type pg from 'pg';

/** The posts table's size per post and per million posts: heap, TOAST and each index. */
export interface PostsStorage {
  bytes_per_post: Record<string, number>;
  bytes_per_million_posts: number;
  /** Decimal gigabytes (10^9 bytes): the unit of the 0.75 GB per million posts target. */
  gb_per_million_posts: number;
  gib_per_million_posts: number;
}

/**
 * Measures the posts table after VACUUM, as autovacuum would have left it by now: VACUUM moves the
 * GIN index's pending list into the index proper (up to 4 MB of uncompressed entries that would
 * otherwise inflate small runs).
 */
export async function postsStorage(owner: pg.Client, posts: number): Promise<PostsStorage> {
  await owner.query('VACUUM ANALYZE posts');
  const parts = (await owner.query(`SELECT 'heap' AS part, pg_relation_size('posts') AS b
    UNION ALL SELECT 'toast', pg_total_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'posts'::regclass AND reltoastrelid <> 0
    UNION ALL SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index WHERE indrelid = 'posts'::regclass`)).rows as { part: string; b: string }[];
  const total = Number((await owner.query("SELECT pg_total_relation_size('posts') AS b")).rows[0].b);
  const perMillion = (total / posts) * 1e6;
  return {
    bytes_per_post: Object.fromEntries(parts.map((r) => [r.part, Math.round(Number(r.b) / posts)])),
    bytes_per_million_posts: Math.round(perMillion),
    gb_per_million_posts: Math.round(perMillion / 1e6) / 1000,
    gib_per_million_posts: Math.round((perMillion / 2 ** 30) * 1000) / 1000,
  };
}

export const describeStorage = (s: PostsStorage) =>
  `${s.gb_per_million_posts.toFixed(3)} GB (${s.gib_per_million_posts.toFixed(3)} GiB) per million posts incl. indexes (target <= 0.75 GB)`;
