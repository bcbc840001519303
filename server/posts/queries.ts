import type { Knex } from 'knex';
import { postColumns, presentPost, type PostMetadata, type PostRow, type ReactionRow } from './model.ts';

/** Loads file infos for posts, grouped by post id (provided by the files module). */
export type FileInfoLoader = (db: Knex, postIds: string[]) => Promise<Map<string, Record<string, unknown>[]>>;

export interface PostListPage {
  order: string[];
  posts: Record<string, unknown>;
  next_post_id: string;
  prev_post_id: string;
  has_next: boolean;
  first_inaccessible_post_time: number;
}

/** Loads reactions (and file infos) for a set of posts in two queries, not one per post. */
export async function loadMetadata(db: Knex, postIds: string[], loadFiles?: FileInfoLoader): Promise<Map<string, PostMetadata>> {
  const meta = new Map<string, PostMetadata>();
  if (postIds.length === 0) return meta;
  const reactions = (await db('reactions').whereIn('post_id', postIds).where({ delete_at: 0 }).orderBy('create_at')) as ReactionRow[];
  for (const r of reactions) {
    const m = meta.get(r.post_id) ?? {};
    (m.reactions ??= []).push(r);
    meta.set(r.post_id, m);
  }
  if (loadFiles) {
    for (const [postId, files] of await loadFiles(db, postIds)) {
      const m = meta.get(postId) ?? {};
      m.files = files;
      meta.set(postId, m);
    }
  }
  return meta;
}

/** Builds a PostList: `order` as given (newest first), plus the thread roots of replies for context. */
export async function buildPostList(db: Knex, rows: PostRow[], extra: Partial<PostListPage>, loadFiles?: FileInfoLoader): Promise<PostListPage> {
  const inList = new Set(rows.map((r) => r.id));
  const missingRoots = [...new Set(rows.map((r) => r.root_id).filter((id) => id && !inList.has(id)))];
  const roots = missingRoots.length ? ((await db('posts').select(postColumns).whereIn('id', missingRoots).where({ delete_at: 0 })) as PostRow[]) : [];
  const all = [...rows, ...roots];
  const meta = await loadMetadata(db, all.map((r) => r.id), loadFiles);
  const posts: Record<string, unknown> = {};
  for (const row of all) posts[row.id] = presentPost(row, meta.get(row.id));
  return { order: rows.map((r) => r.id), posts, next_post_id: '', prev_post_id: '', has_next: false, first_inaccessible_post_time: 0, ...extra };
}

export interface ChannelPostsQuery {
  page: number;
  perPage: number;
  since?: number;
  before?: string;
  after?: string;
}

async function anchor(db: Knex, postId: string, channelId: string): Promise<{ create_at: number; id: string } | undefined> {
  return db('posts').where({ id: postId, channel_id: channelId }).first('create_at', 'id');
}

/**
 * A channel's posts, Mattermost-style: a page newest-first; or every post changed since a time
 * (deleted ones included, so clients can drop them); or the page before/after a given post.
 */
export async function channelPosts(db: Knex, channelId: string, q: ChannelPostsQuery, loadFiles?: FileInfoLoader): Promise<PostListPage> {
  const base = () => db('posts').select(postColumns).where({ channel_id: channelId });
  if (q.since !== undefined) {
    const rows = (await base().where('update_at', '>=', q.since).orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(1000)) as PostRow[];
    return buildPostList(db, rows, {}, loadFiles);
  }
  const offset = q.page * q.perPage;
  if (q.after) {
    const a = await anchor(db, q.after, channelId);
    if (!a) return buildPostList(db, [], {}, loadFiles);
    const newer = (await base().where({ delete_at: 0 }).whereRaw('(create_at, id) > (?, ?)', [a.create_at, a.id]).orderBy([{ column: 'create_at', order: 'asc' }, { column: 'id', order: 'asc' }]).offset(offset).limit(q.perPage + 1)) as PostRow[];
    const hasMore = newer.length > q.perPage;
    const page = newer.slice(0, q.perPage).reverse();
    return buildPostList(db, page, { next_post_id: hasMore ? newer[q.perPage].id : '', prev_post_id: q.after, has_next: hasMore }, loadFiles);
  }
  const query = base().where({ delete_at: 0 }).orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
  if (q.before) {
    const b = await anchor(db, q.before, channelId);
    if (!b) return buildPostList(db, [], {}, loadFiles);
    query.whereRaw('(create_at, id) < (?, ?)', [b.create_at, b.id]);
  }
  const rows = (await query.offset(offset).limit(q.perPage + 1)) as PostRow[];
  const hasMore = rows.length > q.perPage;
  const page = rows.slice(0, q.perPage);
  let next = q.before ?? '';
  if (!q.before && offset > 0 && page.length) {
    const newer = await base().where({ delete_at: 0 }).whereRaw('(create_at, id) > (?, ?)', [page[0].create_at, page[0].id]).orderBy([{ column: 'create_at', order: 'asc' }, { column: 'id', order: 'asc' }]).first('id');
    next = newer?.id ?? '';
  }
  return buildPostList(db, page, { prev_post_id: hasMore ? rows[q.perPage].id : '', next_post_id: next, has_next: hasMore }, loadFiles);
}

/** A thread: its root and every reply, newest first. */
export async function threadPosts(db: Knex, rootId: string, loadFiles?: FileInfoLoader): Promise<PostListPage> {
  const rows = (await db('posts').select(postColumns).where({ delete_at: 0 }).andWhere((q) => q.where({ id: rootId }).orWhere({ root_id: rootId })).orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }])) as PostRow[];
  return buildPostList(db, rows, {}, loadFiles);
}
