import type { JobTypeDefinition } from '../../retention-jobs/index.ts';
import { InvalidInputError } from '../../server/lib/errors.ts';
import { recordComplianceAudit } from '../audit.ts';
import { exportDownload, exportDownloadRefused } from './download.ts';
import { exportFormats, type ExportFormatName } from './formats/format.ts';
import { runMessageExport, type ExportJobData } from './runner.ts';

/** Reads a time given as epoch milliseconds or an ISO 8601 date. */
export function parseTime(value: string, name: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InvalidInputError('api.job.create.invalid_data.app_error', `${name} must be epoch milliseconds or an ISO 8601 date.`, value);
  return ms;
}

/** Mattermost's `message_export` job: scheduled daily (or by cron) and on demand. */
export const messageExportJob: JobTypeDefinition = {
  type: 'message_export',
  permissions: { create: 'run_compliance_export', read: 'read_compliance', download: 'download_compliance_export_result' },
  prepare(data, { config }): ExportJobData & Record<string, unknown> {
    const format = (data.format ?? data.export_type ?? config.exportFormat) as ExportFormatName;
    if (!exportFormats.includes(format)) throw new InvalidInputError('api.job.create.invalid_data.app_error', `Unknown export format "${format}".`, `formats: ${exportFormats.join(', ')}`);
    const from = data.from !== undefined && data.from !== '' ? parseTime(data.from, 'from') : undefined;
    const to = data.to !== undefined && data.to !== '' ? parseTime(data.to, 'to') : undefined;
    if (from !== undefined && to !== undefined && to < from) throw new InvalidInputError('api.job.create.invalid_data.app_error', '"to" is before "from".');
    return { format, incremental: from === undefined && to === undefined, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  },
  schedule(config) {
    if (!config.exportEnabled) return undefined;
    return config.exportCron ? `cron ${config.exportCron}` : `daily ${config.exportDailyTime}`;
  },
  async onCreated(trx, job, actor) {
    await recordComplianceAudit(trx, {
      action: 'export_run_requested', actorId: actor?.userId ?? '', ipAddress: actor?.ipAddress, jobId: job.id, details: { data: job.data },
      apiPath: actor ? (job.data.trigger === 'cli' ? 'cli:export run' : '/api/v4/jobs') : 'job:schedule',
    });
  },
  run: runMessageExport,
  download: exportDownload,
  onDownloadRefused: exportDownloadRefused,
};
