import type { Knex } from 'knex';
import type { AuditError } from '../audit/record.ts';
import { recordAudit } from '../audit/store.ts';
import { auditErrorOf } from '../server/api/audited.ts';
import type { AppError } from '../server/lib/errors.ts';
import type { Logger } from '../server/lib/logger.ts';

/** A compliance action worth an audit record: who, what, on which job or report, with what result. */
export interface ComplianceAuditRecord {
  action: 'export_run_requested' | 'export_run_finished' | 'export_run_failed' | 'export_downloaded' | 'report_requested' | 'report_downloaded';
  /** 'fail': the action was refused or failed (a denied download, a run that stopped in error). */
  status?: 'success' | 'fail';
  error?: AuditError;
  /** The user who acted ('' for the scheduler, a worker or the command line). */
  actorId: string;
  /** Where the request came from, when it came over HTTP. */
  ipAddress?: string;
  /** The API path, or `cli:<command>` / `job:<type>` when no request is involved. */
  apiPath?: string;
  nodeId?: string;
  jobId?: string;
  reportId?: string;
  details: Record<string, unknown>;
}

/**
 * The one place compliance records its audit trail: a record of the tamper-evident audit log, written
 * in the caller's transaction, so the action and its record commit together and a failed audit write
 * fails the action.
 */
export async function recordComplianceAudit(trx: Knex | Knex.Transaction, record: ComplianceAuditRecord): Promise<void> {
  await recordAudit(trx, {
    event_name: `compliance_${record.action}`,
    status: record.status ?? 'success',
    ...(record.error ? { error: record.error } : {}),
    actor: { user_id: record.actorId, ip_address: record.ipAddress ?? '' },
    event: {
      object_type: record.reportId ? 'compliance_report' : 'job',
      parameters: { ...(record.jobId ? { job_id: record.jobId } : {}), ...(record.reportId ? { report_id: record.reportId } : {}), ...record.details },
    },
    meta: { api_path: record.apiPath ?? '', node_id: record.nodeId ?? '' },
  });
}

/**
 * Records a refused or failed compliance action (a denied download, a run that stopped in error) on
 * its own: the action did not happen, so there is no transaction of its to join. If the record cannot
 * be written, that is logged and the caller's own error still goes to the client.
 */
export async function recordComplianceFailure(services: { db: Knex; logger: Logger }, record: Omit<ComplianceAuditRecord, 'status' | 'error'>, err: AppError | Error): Promise<void> {
  try {
    await recordComplianceAudit(services.db, { ...record, status: 'fail', error: auditErrorOf(err) });
  } catch (auditErr) {
    services.logger.error({ err: auditErr, action: record.action, job_id: record.jobId, report_id: record.reportId }, 'could not record a failed compliance action in the audit log');
  }
}
