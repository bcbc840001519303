import type { Knex } from 'knex';
import { recordAudit } from '../../audit/index.ts';
import { searchIndexOf } from '../../server/search/active-index.ts';
import type { JobTypeDefinition } from '../model.ts';
import { openPurgeConnection } from './low-priority.ts';
import { newPurgeState, runRetentionPurge, type PurgeState } from './purge.ts';

function totalsData(state: PurgeState): Record<string, string> {
  return Object.fromEntries(Object.entries(state.totals).map(([k, v]) => [k, String(v)]));
}

/**
 * Mattermost's `data_retention` job: daily at CUSTODIAN_RETENTION_DAILY_TIME and on demand
 * (`POST /jobs {"type": "data_retention"}`). One run at a time (the job system's rule); a run
 * interrupted by a restart or a dead worker resumes from its last batch.
 */
export const dataRetentionJob: JobTypeDefinition = {
  type: 'data_retention',
  permissions: { create: 'manage_data_retention', read: 'manage_data_retention' },
  prepare: () => ({}),
  schedule(config) {
    return config.retentionDailyTime === 'off' ? undefined : `daily ${config.retentionDailyTime}`;
  },
  async onCreated(trx, job, who, _logger) {
    await recordAudit(trx, {
      event_name: 'data_retention_run_requested', status: 'success', actor: { user_id: who?.userId ?? '', ip_address: who?.ipAddress ?? '' },
      meta: { api_path: who ? '/api/v4/jobs' : 'job:schedule' }, event: { object_type: 'job', parameters: { job_id: job.id, trigger: job.data.trigger ?? '' } },
    });
  },
  async run(ctx) {
    const { services, job } = ctx;
    const saved = (job.state as { purge?: PurgeState }).purge;
    const state = saved ?? newPurgeState(Date.now());
    // With OpenSearch as the search backend, purged posts leave its index too.
    const index = searchIndexOf(services);
    const connection = openPurgeConnection(services.db, services.logger);
    try {
      const final = await runRetentionPurge(
        {
          db: services.db, store: services.files, logger: services.logger.child({ job_id: job.id }), nodeId: services.config.nodeId, events: services.events,
          ...(index ? { onPostsDeleted: (ids: string[]) => index.removePurged(ids) } : {}),
        },
        state,
        {
          batchSize: services.config.retentionBatchSize,
          pauseMs: services.config.retentionBatchPauseMs,
          lowPriority: connection.lowPriority,
          actorId: job.created_by,
          jobId: job.id,
          signal: ctx.signal,
          transact: async <T>(s: PurgeState, work: (trx: Knex.Transaction) => Promise<T>) =>
            (await ctx.checkpoint({ state: { purge: s }, data: totalsData(s) }, work, { db: connection.db })) as T,
        },
      );
      return { status: 'success', data: { ...totalsData(final), now: String(final.now) } };
    } finally {
      await connection.close();
    }
  },
};
