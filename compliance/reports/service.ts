import type { Knex } from 'knex';
import { insertJob, type JobDownload } from '../../retention-jobs/index.ts';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { AppError, InvalidInputError, NotFoundError } from '../../server/lib/errors.ts';
import { newId } from '../../server/lib/ids.ts';
import type { Services } from '../../server/services.ts';
import { recordComplianceAudit, recordComplianceFailure } from '../audit.ts';
import { ExportStorage } from '../export/storage.ts';
import { complianceReportJob, type ReportRow } from './report.ts';

const system = { kind: 'system' } as const;

export interface NewReport {
  desc: string;
  emails: string;
  keywords: string;
  start_at: number;
  end_at: number;
}

/** Creates a report and the job that runs it, audited, in one transaction. */
export async function createReport(services: Services, actor: Actor, input: NewReport): Promise<ReportRow> {
  authorize(actor, 'run_compliance_export', system);
  if (input.end_at < input.start_at) throw new InvalidInputError('api.compliance.invalid_dates.app_error', 'end_at is before start_at.');
  const id = newId();
  // The report and its job commit together: a worker woken by the job always finds its report.
  return services.db.transaction(async (trx) => {
    const job = await insertJob(trx, { type: complianceReportJob.type, data: { report_id: id, trigger: 'api' }, createdBy: actor.userId });
    const [row] = (await trx('compliance_reports')
      .insert({ id, create_at: Date.now(), user_id: actor.userId, status: 'created', description: input.desc, type: 'adhoc', start_at: input.start_at, end_at: input.end_at, keywords: input.keywords, emails: input.emails, job_id: job.id })
      .returning('*')) as ReportRow[];
    await recordComplianceAudit(trx, { action: 'report_requested', actorId: actor.userId, ipAddress: actor.ipAddress, reportId: id, jobId: job.id, apiPath: '/api/v4/compliance/reports', nodeId: services.config.nodeId, details: { ...input } });
    return row;
  });
}

export async function listReports(db: Knex, actor: Actor, page: number, perPage: number): Promise<ReportRow[]> {
  authorize(actor, 'read_compliance', system);
  return (await db('compliance_reports').orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(perPage).offset(page * perPage)) as ReportRow[];
}

export async function getReport(db: Knex, actor: Actor, id: string): Promise<ReportRow> {
  authorize(actor, 'read_compliance', system);
  const row = (await db('compliance_reports').where({ id }).first()) as ReportRow | undefined;
  if (!row) throw new NotFoundError('app.compliance.get.finding.app_error', 'Unable to find the compliance report.');
  return row;
}

/**
 * A finished report's zip for download (audited before any byte is sent). A refused attempt (no
 * permission, no such report, not ready) is audited too, on its own, with who tried.
 */
export async function reportDownload(services: Services, actor: Actor, id: string): Promise<JobDownload> {
  const audit = { actorId: actor.userId, ipAddress: actor.ipAddress, reportId: id, apiPath: `/api/v4/compliance/reports/${id}/download`, nodeId: services.config.nodeId };
  let report: ReportRow;
  try {
    report = await getReport(services.db, actor, id);
    authorize(actor, 'download_compliance_export_result', system);
    if (report.status !== 'finished' || !report.file_key) throw new NotFoundError('api.compliance.download.not_ready.app_error', `The report is not ready (${report.status}).`);
  } catch (err) {
    if (err instanceof AppError) await recordComplianceFailure(services, { action: 'report_downloaded', ...audit, details: {} }, err);
    throw err;
  }
  await services.db.transaction((trx) => recordComplianceAudit(trx, { action: 'report_downloaded', ...audit, details: { sha256: report.sha256 } }));
  const storage = ExportStorage.for(services.config);
  const day = new Date(report.create_at).toISOString().slice(0, 10);
  return { name: `adhoc-${day}-${id}.zip`, size: Number(report.size), contentType: 'application/zip', etag: `"${report.sha256}"`, open: (range) => storage.open(report.file_key, range) };
}
