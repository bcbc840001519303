// The search_index job: backfills, catches up or rebuilds the OpenSearch index from PostgreSQL.
//   catch_up (scheduled every 5 minutes, and queued at first start): indexes what changed since the
//     saved position; an index never backfilled is backfilled from the start;
//   rebuild (on demand, `POST /jobs {"type": "search_index", "data": {"mode": "rebuild"}}`): drops the
//     index and indexes everything again; searches use PostgreSQL until it finishes.
// Each batch's position is saved with the job's checkpoint, so a run resumes where it stopped.
import type { JobTypeDefinition } from '../../retention-jobs/model.ts';
import { InvalidInputError } from '../lib/errors.ts';
import { searchIndexOf } from './active-index.ts';
import { readIndexState, resetIndexState, saveIndexPosition, START, type IndexPosition } from './index-state.ts';
import type { OpenSearchBackend } from './opensearch-backend.ts';

const modes = ['catch_up', 'rebuild'];

export const searchIndexJob: JobTypeDefinition = {
  type: 'search_index',
  permissions: { create: 'manage_system', read: 'manage_system' },
  prepare(data) {
    const mode = data.mode ?? 'catch_up';
    if (!modes.includes(mode)) throw new InvalidInputError('api.job.search_index.mode.app_error', `mode must be one of ${modes.join(', ')}.`, mode);
    return { mode };
  },
  schedule: (config) => (config.opensearchUrl ? '*/5 * * * *' : undefined),
  async run(ctx) {
    const { services, job } = ctx;
    const index = searchIndexOf(services);
    if (!index) return { status: 'success', data: { skipped: 'no search index is configured (CUSTODIAN_OPENSEARCH_URL)' } };
    const backend = index.backend as OpenSearchBackend;
    const name = index.indexName;
    let from = (job.state as { position?: IndexPosition }).position;
    let backfill = false;
    if (!from) {
      const state = await readIndexState(services.db, name);
      if (job.data.mode === 'rebuild' || !state) {
        if (job.data.mode === 'rebuild') await backend.dropIndex();
        await backend.ensureIndex();
        await resetIndexState(services.db, name);
        from = START;
        backfill = true;
      } else if (state.backfilledAt === 0) {
        await backend.ensureIndex();
        from = state.position;
        backfill = true;
      } else {
        from = (await index.catchUpStart())!;
      }
    } else {
      backfill = ((await readIndexState(services.db, name))?.backfilledAt ?? 0) === 0;
    }
    const done = await index.indexFrom(
      from,
      (at, documents) => ctx.checkpoint({ state: { position: at }, data: { documents } }, (trx) => saveIndexPosition(trx, name, at)).then(() => undefined),
      { signal: ctx.signal },
    );
    if (backfill) await saveIndexPosition(services.db, name, done.at, true);
    // This node switches at once; the others when they next look (within their retry interval).
    await index.probe();
    return { status: 'success', data: { documents: done.documents, backfilled: backfill } };
  },
};
