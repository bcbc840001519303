// The external search index (OpenSearch) as the server uses it: searches go to it while it answers
// and holds everything PostgreSQL holds, and to PostgreSQL otherwise; committed post changes reach
// it from this node's events; a catch-up from PostgreSQL (search-index-job.ts) makes up for anything
// the live path missed. PostgreSQL stays the record, so falling back never loses a result.
import type { Knex } from 'knex';
import type { Logger } from '../lib/logger.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import type { BackendQuery, BackendResult, SearchBackend } from './backend.ts';
import { insertJob } from '../../retention-jobs/store.ts';
import { readIndexState, resetIndexState, saveIndexPosition, type IndexPosition } from './index-state.ts';
import { documentsFor, indexNextBatch } from './opensearch-backend.ts';
import { PostgresSearchBackend } from './pg-backend.ts';

/**
 * Changes are indexed by (update_at, id), stamped by each node's clock before its transaction
 * commits: a catch-up re-reads this much before the newest change it saw, so a transaction that
 * committed late, or a node whose clock lags, is not skipped.
 */
export const CATCH_UP_OVERLAP_MS = 60_000;

const POST_EVENTS = new Set(['posted', 'post_edited', 'post_deleted']);

export interface SearchIndexOptions {
  db: Knex;
  logger: Logger;
  backend: SearchBackend;
  indexName: string;
  /** While the cluster is failing, how often to try it again (ms). */
  retryMs?: number;
  /** How long changed posts gather before they are sent in one bulk request (ms). */
  flushMs?: number;
}

export class SearchIndex {
  readonly backend: SearchBackend;
  readonly indexName: string;
  private readonly db: Knex;
  private readonly logger: Logger;
  private readonly retryMs: number;
  private readonly flushMs: number;
  /** The backfill has finished (read from search_index_state). */
  private backfilled = false;
  /** Why searches are on PostgreSQL while the cluster fails; undefined while it answers. */
  private failure?: string;
  private readonly pending = new Set<string>();
  private flushTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private probeTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(options: SearchIndexOptions) {
    this.db = options.db;
    this.logger = options.logger;
    this.backend = options.backend;
    this.indexName = options.indexName;
    this.retryMs = options.retryMs ?? 30_000;
    this.flushMs = options.flushMs ?? 200;
  }

  /** Reads the index's state and listens for this node's post changes. */
  async start(events: EventBus): Promise<void> {
    await this.refreshState();
    // 'origin': each node indexes the changes it made itself (its events), once.
    this.unsubscribe = events.subscribe((event) => this.onEvent(event), 'origin');
    this.probeTimer = setInterval(() => void this.probe(), this.retryMs);
    this.probeTimer.unref();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.probeTimer);
    clearTimeout(this.flushTimer);
    await this.flush();
  }

  /** True when searches go to the index (backfilled, and answering). */
  inUse(): boolean {
    return this.backfilled && this.failure === undefined;
  }

  /** Searches the index, or PostgreSQL (through `db`) when the index cannot answer completely. */
  async search(db: Knex | Knex.Transaction, q: BackendQuery): Promise<BackendResult & { backend: string }> {
    if (this.inUse()) {
      try {
        return { ...(await this.backend.search(q)), backend: this.backend.name };
      } catch (err) {
        this.fail(err);
      }
    }
    return { ...(await new PostgresSearchBackend(db).search(q)), backend: 'postgresql' };
  }

  /** Queues posts whose text, state or versions changed (committed), for the next bulk request. */
  postsChanged(ids: string[]): void {
    for (const id of ids) this.pending.add(id);
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /** Sends what is queued now; resolves once it has been indexed (or has failed and been logged). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const ids = [...this.pending];
      this.pending.clear();
      if (ids.length === 0 || this.failure !== undefined) return; // a failed cluster gets these from the catch-up
      try {
        const docs = await documentsFor(this.db, ids);
        await this.backend.index(docs);
        const gone = ids.filter((id) => !docs.some((d) => d.post_id === id));
        await this.backend.removePosts(gone);
      } catch (err) {
        this.fail(err);
      }
    });
    return this.flushing;
  }

  /**
   * Indexes every post changed after `from`, in keyset batches, handing each position reached to
   * `save` (the search_index job saves it with its checkpoint). Returns the last position.
   */
  async indexFrom(from: IndexPosition, save: (at: IndexPosition, documents: number) => Promise<void>, options: { batchSize?: number; signal?: AbortSignal } = {}): Promise<{ at: IndexPosition; documents: number }> {
    let at = from;
    let documents = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const step = await indexNextBatch(this.db, this.backend, at, options.batchSize);
      if (!step.at) break;
      documents += step.documents;
      at = step.at;
      await save(at, documents);
    }
    await this.backend.refresh();
    return { at, documents };
  }

  /**
   * Drops purged posts from the index. If the cluster cannot take it, the index would keep what
   * retention deleted: it is then taken out of use and rebuilt from PostgreSQL.
   */
  async removePurged(ids: string[]): Promise<void> {
    try {
      await this.backend.removePosts(ids);
    } catch (err) {
      this.fail(err);
      this.logger.error({ index: this.indexName }, 'OpenSearch could not drop posts retention deleted: the index is out of use until a rebuild finishes');
      await resetIndexState(this.db, this.indexName);
      this.backfilled = false;
      await insertJob(this.db, { type: 'search_index', data: { mode: 'rebuild', trigger: 'purge' } });
    }
  }

  /** Where a catch-up starts: the saved position less the overlap (undefined before any backfill began). */
  async catchUpStart(): Promise<IndexPosition | undefined> {
    const state = await readIndexState(this.db, this.indexName);
    return state && { updateAt: Math.max(-1, state.position.updateAt - CATCH_UP_OVERLAP_MS), id: '' };
  }

  /** Indexes what changed since the saved position, and saves the new one. */
  async catchUp(): Promise<number> {
    const from = await this.catchUpStart();
    if (!from) return 0;
    return (await this.indexFrom(from, (at) => saveIndexPosition(this.db, this.indexName, at))).documents;
  }

  /** While failing (or not yet backfilled): try the cluster again, and use it once it has caught up. */
  async probe(): Promise<void> {
    try {
      await this.refreshState();
      if (!this.backfilled || this.failure === undefined) return;
      await this.catchUp();
      this.failure = undefined;
      this.logger.info({ index: this.indexName }, 'OpenSearch answers again and has caught up with PostgreSQL: searches use it again');
    } catch (err) {
      this.logger.debug({ err }, 'OpenSearch is still failing');
    }
  }

  private async refreshState(): Promise<void> {
    const was = this.backfilled;
    this.backfilled = ((await readIndexState(this.db, this.indexName))?.backfilledAt ?? 0) > 0;
    if (this.backfilled && !was) this.logger.info({ index: this.indexName }, 'OpenSearch index is backfilled: searches use it');
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.failure === undefined) {
      this.logger.warn({ index: this.indexName, err: message }, `OpenSearch is failing: searches use PostgreSQL until it answers again and has caught up (retried every ${Math.round(this.retryMs / 1000)} s)`);
    }
    this.failure = message;
  }

  private onEvent(event: ServerEvent): void {
    // An event's admins-only twin (contains_sensitive_data) names the same post again.
    if (event.internal || event.broadcast?.contains_sensitive_data || !POST_EVENTS.has(event.event) || typeof event.data.post !== 'string') return;
    try {
      const id = (JSON.parse(event.data.post) as { id?: unknown }).id;
      if (typeof id === 'string') this.postsChanged([id]);
    } catch {
      // Not a post payload: nothing to index.
    }
  }
}
