// The retention purge: hard-deletes what the policies say has expired, in keyset batches on
// (create_at, id), never anything a legal hold covers.
//
// Each batch is one transaction that first takes the hold/purge lock (compliance/holds/lock.ts), then
// chooses its rows and evaluates hold coverage (so a hold committed before the lock is seen, and a
// hold being created waits until the batch has committed), then deletes the posts with their versions,
// reactions and files, and writes an audit record with the counts and the SHA-256 of the deleted ids.
// Posts are deleted by their physical row id (ctid) as read: a post a live request changed in between
// (an edit, a pin) has a new row version, is not deleted, and is looked at again by the next run; its
// dependants are deleted only for the posts actually deleted. File contents leave the store after
// COMMIT, from a durable list. A pause between batches leaves the database to live traffic.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { recordAudit } from '../../audit/index.ts';
import { fileHeldSql, heldSql } from '../../compliance/holds/coverage.ts';
import { lockHoldsAgainstPurge } from '../../compliance/holds/lock.ts';
import type { FileStore } from '../../server/files/storage.ts';
import type { Logger } from '../../server/lib/logger.ts';
import type { EventBus } from '../../server/realtime/events.ts';
import { fileCutoff, postPasses, type RetentionPlan } from './plan.ts';
import { readCustomPolicies, readGlobalPolicy } from './policies.ts';

export interface PurgeTotals {
  batches: number;
  posts: number;
  versions: number;
  reactions: number;
  files: number;
  held_skipped: number;
  pinned_skipped: number;
}

/** Where a purge is: kept by the job between batches, so a resumed run goes on from there. */
export interface PurgeState {
  /** The run's "now", fixed when it first starts: cutoffs do not move while it runs. */
  now: number;
  /** Passes finished ('policy:<id>', 'global', 'files'). */
  done: string[];
  /** The pass under way and the last (create_at, id) it has dealt with. */
  current?: { key: string; at: number; id: string };
  totals: PurgeTotals;
}

export interface PurgeDeps {
  db: Knex;
  store: FileStore;
  logger: Logger;
  nodeId: string;
  /** Called after COMMIT with the ids of the posts a batch removed (an external search index drops them). */
  onPostsDeleted?: (postIds: string[]) => Promise<void>;
  /** Told (internally, never to clients) which channels lost posts, so cached pages of them are dropped. */
  events?: EventBus;
}

export interface PurgeOptions {
  batchSize: number;
  /**
   * The least pause between batches. The pause is also at least as long as the batch just took, so
   * the purge keeps to half of one database connection's time: when live traffic slows a batch down,
   * the purge backs off with it. When `lowPriority()` says the batches' backend already yields the
   * CPU to live traffic (low-priority.ts), the pause is only as long as the batch took beyond the
   * fastest batch of the run: the time live traffic took from it.
   */
  pauseMs: number;
  lowPriority?: () => boolean;
  /** Who asked for the run ('' for the schedule) and which job it is, for the audit records. */
  actorId: string;
  jobId: string;
  signal?: AbortSignal;
  /**
   * Runs a batch in one transaction that also saves `state` (the job's checkpoint). `state` is where
   * the batch starts: a batch that commits but whose successor never runs is simply chosen again
   * from there, and finds its deleted rows gone.
   */
  transact<T>(state: PurgeState, work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /** Test hook: runs inside each batch's transaction once it holds the hold/purge lock, before it chooses rows. */
  afterLock?: () => Promise<void>;
}

export function newPurgeState(now: number): PurgeState {
  return { now, done: [], totals: { batches: 0, posts: 0, versions: 0, reactions: 0, files: 0, held_skipped: 0, pinned_skipped: 0 } };
}

interface BatchResult {
  last?: { at: number; id: string };
  deleted: number;
  /** SHA-256 (hex) of the deleted ids, sorted and joined by newlines. */
  digest: string;
  /** The deleted ids, when an external search index must be told. */
  ids?: string[];
  /** Channels that lost posts, with the newest time a lost post (or its thread's replies) could show at. */
  channels: Map<string, number>;
  versions: number;
  reactions: number;
  files: number;
  held: number;
  pinned: number;
}

interface SummaryRow {
  last_at: string | null;
  last_id: string | null;
  held: string;
  pinned: string;
  deleted: string;
  digest: string;
  ids: string[] | null;
  versions: string;
  reactions: string;
  files: string;
  channels: [string, string][] | null;
}

function resultOf(row: SummaryRow): BatchResult {
  return {
    last: row.last_id === null ? undefined : { at: Number(row.last_at), id: row.last_id },
    deleted: Number(row.deleted), digest: row.digest, ids: row.ids ?? undefined,
    channels: new Map((row.channels ?? []).map(([id, at]) => [id, Number(at)])),
    versions: Number(row.versions), reactions: Number(row.reactions), files: Number(row.files), held: Number(row.held), pinned: Number(row.pinned),
  };
}

async function audit(trx: Knex.Transaction, deps: PurgeDeps, options: PurgeOptions, pass: { key: string; cutoff: number; keepPinned: boolean }, result: BatchResult, first: { at: number; id: string }): Promise<void> {
  await recordAudit(trx, {
    event_name: 'data_retention_purge_batch',
    status: 'success',
    actor: { user_id: options.actorId },
    meta: { api_path: 'job:data_retention', node_id: deps.nodeId },
    event: {
      object_type: 'data_retention',
      parameters: { job_id: options.jobId, pass: pass.key, cutoff: pass.cutoff, keep_pinned: pass.keepPinned },
      resulting_state: {
        deleted: result.deleted, versions: result.versions, reactions: result.reactions, files: result.files,
        held_skipped: result.held, pinned_skipped: result.pinned, from: first, to: result.last, deleted_ids_sha256: result.digest,
      },
    },
  });
}

/**
 * Whether any hold is in force. Asked after the hold/purge lock is taken, so the answer holds for the
 * whole batch (a hold being created waits for the batch to commit). With none, the per-row coverage
 * predicate is left out of the statement: it is most of the cost of choosing rows, and of planning.
 */
async function anyActiveHold(trx: Knex.Transaction): Promise<boolean> {
  const { rows } = await trx.raw('SELECT EXISTS (SELECT 1 FROM legal_holds WHERE released_at = 0) AS any');
  return Boolean(rows[0].any);
}

const NO_HOLD = { sql: 'false', bindings: [] };

// The summary of a batch, computed in the statement that did it: the batch's rows never travel to
// this process (which also serves HTTP), only counts, the last key, the digest and the channels.
const DIGEST = (source: string, column: string) =>
  `(SELECT encode(sha256(convert_to(coalesce(string_agg(${column}, E'\\n' ORDER BY ${column} COLLATE "C"), ''), 'UTF8')), 'hex') FROM ${source})`;

// The keyset position a batch reached: its newest candidate. Two plain aggregates rather than a
// sort of the whole batch (ids compare by collation, which is what costs).
const LAST_OF_CAND = 'last AS (SELECT create_at, max(id) AS id FROM cand WHERE create_at = (SELECT max(create_at) FROM cand) GROUP BY create_at)';

/**
 * One batch of a post pass, in one statement after the lock: choose the next rows by (create_at, id),
 * evaluate holds and keep-pinned, delete the rest by ctid as read (a post a live request changed
 * meanwhile has a new row version and is left for the next run), then their versions, reactions,
 * files and the thread memberships of the roots among them. A root whose replies lost some gets its
 * reply count lowered unless it went too (its replies are checked against the batch before any root
 * is looked up). Every write that adds a version, a reaction or a file change to a post moves its update_at
 * (posts/service.ts, posts/reactions.ts, files/service.ts; incremental compliance exports rely on it
 * too), so only posts changed since their creation, or created with files, are looked up there.
 */
async function postBatch(trx: Knex.Transaction, deps: PurgeDeps, options: PurgeOptions, pass: ReturnType<typeof postPasses>[number], from: { at: number; id: string }): Promise<BatchResult> {
  await lockHoldsAgainstPurge(trx);
  await options.afterLock?.();
  const held = (await anyActiveHold(trx)) ? heldSql({ user: 'p.user_id', channel: 'p.channel_id', at: 'p.create_at', post: { id: 'p.id', vector: 'p.search_vector' } }) : NO_HOLD;
  const { rows } = await trx.raw(
    `WITH cand AS (
       SELECT p.ctid AS row_id, p.id, p.create_at, p.is_pinned, ${held.sql} AS held
       FROM posts p ${pass.needsChannel ? 'LEFT JOIN channels c ON c.id = p.channel_id' : ''}
       WHERE p.create_at < ? AND (p.create_at, p.id) > (?, ?) AND ${pass.scope.sql}
       ORDER BY p.create_at, p.id LIMIT ?),
     gone AS (
       DELETE FROM posts p USING cand WHERE p.ctid = cand.row_id AND NOT cand.held AND NOT (?::boolean AND cand.is_pinned)
       RETURNING p.id, p.root_id, p.channel_id, p.delete_at, p.update_at <> p.create_at AS changed,
                 jsonb_array_length(p.file_ids) > 0 AS has_files, GREATEST(p.create_at, p.last_reply_at) AS shown_until),
     changed AS MATERIALIZED (SELECT ARRAY(SELECT id FROM gone WHERE changed) AS ids, ARRAY(SELECT id FROM gone WHERE changed OR has_files) AS with_files,
                                     ARRAY(SELECT id FROM gone WHERE root_id = '') AS roots),
     memberships_gone AS (DELETE FROM thread_memberships m USING changed c WHERE m.post_id = ANY(c.roots)),
     versions_gone AS (DELETE FROM post_versions v USING changed c WHERE v.post_id = ANY(c.ids) RETURNING 1),
     reactions_gone AS (DELETE FROM reactions r USING changed c WHERE r.post_id = ANY(c.ids) RETURNING 1),
     files_gone AS (DELETE FROM file_infos f USING changed c WHERE f.post_id = ANY(c.with_files) RETURNING f.id, f.path),
     removals AS (INSERT INTO retention_file_removals (storage_key, file_id, create_at) SELECT path, id, ? FROM files_gone RETURNING 1),
     replies_gone AS (SELECT root_id, count(*) AS n FROM gone WHERE root_id <> '' AND delete_at = 0 GROUP BY root_id),
     roots_fixed AS (
       UPDATE posts r SET reply_count = GREATEST(r.reply_count - rg.n, 0) FROM replies_gone rg
       WHERE r.id = rg.root_id AND rg.root_id NOT IN (SELECT id FROM gone) RETURNING 1),
     ${LAST_OF_CAND}
     SELECT (SELECT create_at FROM last) AS last_at, (SELECT id FROM last) AS last_id,
            (SELECT count(*) FROM cand WHERE held) AS held,
            (SELECT count(*) FROM cand WHERE NOT held AND ?::boolean AND is_pinned) AS pinned,
            (SELECT count(*) FROM gone) AS deleted, ${DIGEST('gone', 'id')} AS digest,
            ${deps.onPostsDeleted ? '(SELECT json_agg(id) FROM gone)' : 'NULL'} AS ids,
            (SELECT count(*) FROM versions_gone) AS versions, (SELECT count(*) FROM reactions_gone) AS reactions,
            (SELECT count(*) FROM removals) AS files, (SELECT count(*) FROM roots_fixed) AS roots,
            (SELECT json_agg(json_build_array(channel_id, m)) FROM (SELECT channel_id, max(shown_until) AS m FROM gone GROUP BY channel_id) x) AS channels`,
    [...held.bindings, pass.cutoff, from.at, from.id, ...pass.scope.bindings, options.batchSize, pass.keepPinned, Date.now(), pass.keepPinned],
  );
  const result = resultOf(rows[0] as SummaryRow);
  if (result.last) await audit(trx, deps, options, pass, result, from);
  return result;
}

/** One batch of the file pass (global file policy): the same shape over file_infos. */
async function fileBatch(trx: Knex.Transaction, deps: PurgeDeps, options: PurgeOptions, pass: { key: string; cutoff: number; keepPinned: boolean }, from: { at: number; id: string }): Promise<BatchResult> {
  await lockHoldsAgainstPurge(trx);
  await options.afterLock?.();
  const held = !(await anyActiveHold(trx)) ? NO_HOLD : fileHeldSql({ postId: 'f.post_id', creator: 'f.creator_id', channel: 'f.channel_id', at: 'f.create_at' });
  const { rows } = await trx.raw(
    `WITH cand AS (
       SELECT f.ctid AS row_id, f.id, f.create_at, ${held.sql} AS held,
              EXISTS (SELECT 1 FROM posts pp WHERE pp.id = f.post_id AND pp.is_pinned) AS is_pinned
       FROM file_infos f WHERE f.create_at < ? AND (f.create_at, f.id) > (?, ?)
       ORDER BY f.create_at, f.id LIMIT ?),
     gone AS (DELETE FROM file_infos f USING cand WHERE f.ctid = cand.row_id AND NOT cand.held AND NOT (?::boolean AND cand.is_pinned) RETURNING f.id, f.path),
     removals AS (INSERT INTO retention_file_removals (storage_key, file_id, create_at) SELECT path, id, ? FROM gone RETURNING 1),
     ${LAST_OF_CAND}
     SELECT (SELECT create_at FROM last) AS last_at, (SELECT id FROM last) AS last_id,
            (SELECT count(*) FROM cand WHERE held) AS held,
            (SELECT count(*) FROM cand WHERE NOT held AND ?::boolean AND is_pinned) AS pinned,
            (SELECT count(*) FROM gone) AS deleted, ${DIGEST('gone', 'id')} AS digest, NULL AS ids,
            0 AS versions, 0 AS reactions, (SELECT count(*) FROM removals) AS files, NULL AS channels`,
    [...held.bindings, pass.cutoff, from.at, from.id, options.batchSize, pass.keepPinned, Date.now(), pass.keepPinned],
  );
  const result = resultOf(rows[0] as SummaryRow);
  if (result.last) await audit(trx, deps, options, pass, result, from);
  return result;
}

/** Removes from the file store the contents whose rows a committed batch deleted; returns how many. */
export async function drainFileRemovals(db: Knex, store: FileStore, logger: Logger): Promise<number> {
  let removed = 0;
  for (;;) {
    const rows = (await db('retention_file_removals').orderBy('id').limit(500).select('id', 'storage_key')) as { id: string; storage_key: string }[];
    if (rows.length === 0) return removed;
    for (const row of rows) {
      try {
        await store.delete(row.storage_key);
      } catch (err) {
        // An unsafe or unreachable key stays listed for the next run rather than stopping the purge.
        logger.error({ err, storage_key: row.storage_key }, 'retention could not remove a file from the store');
        return removed;
      }
    }
    await db('retention_file_removals').whereIn('id', rows.map((r) => r.id)).delete();
    removed += rows.length;
  }
}

/** The most posts a page of `GET /channels/{id}/posts` shows (per_page's maximum). */
const LARGEST_PAGE = 200;

/**
 * Which channels' cached pages (server/posts/recent-cache.ts caches each channel's newest page) a
 * batch made stale: those where a deleted post, or a reply of a deleted root, is among the newest
 * LARGEST_PAGE posts. The time of each channel's LARGEST_PAGE-th newest post is looked up once per run
 * (the purge deletes nothing newer than its cutoff, and new posts only push that time later).
 */
class PageHorizons {
  private readonly db: Knex;
  private readonly horizons = new Map<string, number>();

  constructor(db: Knex) {
    this.db = db;
  }

  async stale(lost: Map<string, number>): Promise<string[]> {
    const unknown = [...lost.keys()].filter((id) => !this.horizons.has(id));
    if (unknown.length) {
      // One round trip for every channel first seen in this batch (the first batch meets hundreds).
      const { rows } = await this.db.raw(
        `SELECT c.id, coalesce((SELECT p.create_at FROM posts p WHERE p.channel_id = c.id ORDER BY p.create_at DESC OFFSET ? LIMIT 1), 0) AS horizon
         FROM unnest(?::varchar[]) AS c(id)`,
        [LARGEST_PAGE - 1, unknown],
      );
      for (const row of rows as { id: string; horizon: string }[]) this.horizons.set(row.id, Number(row.horizon));
    }
    return [...lost].filter(([channelId, shownUntil]) => shownUntil >= (this.horizons.get(channelId) ?? 0)).map(([channelId]) => channelId);
  }
}

/** The retention plan in force. */
export async function currentPlan(db: Knex | Knex.Transaction): Promise<RetentionPlan> {
  return { global: await readGlobalPolicy(db), policies: await readCustomPolicies(db) };
}

/**
 * Runs (or resumes) a purge from `state` to the end: every post pass, then the file pass. Returns the
 * final state. Stops with the signal's reason when aborted between batches.
 */
export async function runRetentionPurge(deps: PurgeDeps, start: PurgeState, options: PurgeOptions, onBatch?: (state: PurgeState) => void): Promise<PurgeState> {
  const state: PurgeState = structuredClone(start);
  const pageHorizons = new PageHorizons(deps.db);
  await drainFileRemovals(deps.db, deps.store, deps.logger);
  const plan = await currentPlan(deps.db);
  const passes: { key: string; cutoff: number; keepPinned: boolean; run: (trx: Knex.Transaction, from: { at: number; id: string }) => Promise<BatchResult> }[] = postPasses(plan, state.now).map((pass) => ({
    key: pass.key, cutoff: pass.cutoff, keepPinned: pass.keepPinned, run: (trx, from) => postBatch(trx, deps, options, pass, from),
  }));
  const files = fileCutoff(plan, state.now);
  if (files !== undefined) {
    const pass = { key: 'files', cutoff: files, keepPinned: plan.global.keep_pinned };
    passes.push({ ...pass, run: (trx, from) => fileBatch(trx, deps, options, pass, from) });
  }
  let fastestMs = Infinity;
  for (const pass of passes) {
    if (state.done.includes(pass.key)) continue;
    let from = state.current?.key === pass.key ? { at: state.current.at, id: state.current.id } : { at: -1, id: '' };
    for (;;) {
      options.signal?.throwIfAborted();
      const batchStarted = performance.now();
      const result = await options.transact(state, (trx) => pass.run(trx, from));
      const batchMs = performance.now() - batchStarted;
      if (!result.last) break;
      from = result.last;
      state.current = { key: pass.key, ...from };
      const t = state.totals;
      t.batches++;
      t.posts += pass.key === 'files' ? 0 : result.deleted;
      t.versions += result.versions;
      t.reactions += result.reactions;
      t.files += result.files;
      t.held_skipped += result.held;
      t.pinned_skipped += result.pinned;
      if (result.files) await drainFileRemovals(deps.db, deps.store, deps.logger);
      if (result.ids?.length && pass.key !== 'files') await deps.onPostsDeleted?.(result.ids);
      if (deps.events) for (const channelId of await pageHorizons.stale(result.channels)) deps.events.publish({ event: 'post_deleted', internal: true, data: { channel_id: channelId, retention: true }, broadcast: { channel_id: channelId } });
      onBatch?.(state);
      fastestMs = Math.min(fastestMs, batchMs);
      const backOffMs = options.lowPriority?.() ? batchMs - fastestMs : batchMs;
      if (options.pauseMs > 0) await sleep(Math.max(options.pauseMs, backOffMs), undefined, { signal: options.signal });
    }
    state.done.push(pass.key);
    state.current = undefined;
  }
  return state;
}
