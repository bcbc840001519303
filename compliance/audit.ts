import type { Knex } from 'knex';
import { recordAudit } from '../audit/store.ts';

/** A compliance action worth an audit record: who, what, on which job or report, with what result. */
export interface ComplianceAuditRecord {
  action: 'export_run_requested' | 'export_run_finished' | 'export_downloaded' | 'report_requested' | 'report_downloaded';
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
    status: 'success',
    actor: { user_id: record.actorId, ip_address: record.ipAddress ?? '' },
    event: {
      object_type: record.reportId ? 'compliance_report' : 'job',
      parameters: { ...(record.jobId ? { job_id: record.jobId } : {}), ...(record.reportId ? { report_id: record.reportId } : {}), ...record.details },
    },
    meta: { api_path: record.apiPath ?? '', node_id: record.nodeId ?? '' },
  });
}
