// The search index of a running server, when CUSTODIAN_OPENSEARCH_URL configures one: started with
// the server, found by the search routes and the search_index job through the server's services.
import type { Services } from '../services.ts';
import { insertJob } from '../../retention-jobs/store.ts';
import { readIndexState } from './index-state.ts';
import { OpenSearchBackend } from './opensearch-backend.ts';
import { SearchIndex } from './search-index.ts';

// Keyed by the server's database pool: one per running server (tests run several in one process).
const running = new WeakMap<object, SearchIndex>();

/** The server's external search index, or undefined when PostgreSQL is the only search backend. */
export function searchIndexOf(services: Pick<Services, 'db'>): SearchIndex | undefined {
  return running.get(services.db);
}

/**
 * Starts the search index when one is configured; a first start (or an index never backfilled)
 * queues a search_index job to backfill it, and searches use PostgreSQL until that job finishes.
 * Returns the function that stops it.
 */
export async function startSearchIndexing(services: Services): Promise<() => Promise<void>> {
  const { config, db, logger } = services;
  if (!config.opensearchUrl) return async () => {};
  const backend = new OpenSearchBackend({ url: config.opensearchUrl, index: config.opensearchIndex });
  const index = new SearchIndex({ db, logger: logger.child({ component: 'search-index' }), backend, indexName: config.opensearchIndex });
  await index.start(services.events);
  running.set(db, index);
  if (!((await readIndexState(db, config.opensearchIndex))?.backfilledAt ?? 0)) {
    const queued = await db('jobs').where({ type: 'search_index' }).whereIn('status', ['pending', 'in_progress']).first('id');
    if (!queued) await insertJob(db, { type: 'search_index', data: { mode: 'catch_up', trigger: 'backfill' } });
  }
  return async () => {
    running.delete(db);
    await index.close();
    await backend.close();
  };
}
