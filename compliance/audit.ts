import type { Knex } from 'knex';
import type { Logger } from '../server/lib/logger.ts';

/** A compliance action worth an audit record: who, what, on which job or report, with what result. */
export interface ComplianceAuditRecord {
  action: 'export_run_requested' | 'export_run_finished' | 'export_downloaded' | 'report_requested' | 'report_downloaded';
  /** The user who acted ('' for the scheduler or a worker). */
  actorId: string;
  /** Where the request came from, when it came over HTTP. */
  ipAddress?: string;
  jobId?: string;
  reportId?: string;
  details: Record<string, unknown>;
}

/**
 * The one place compliance records its audit trail, inside the caller's transaction (so the action
 * and its record commit together, and a failed write fails the action).
 *
 * The tamper-evident audit log (audit/) is being built separately; until it exists this writes a
 * structured `compliance_audit` log line. When audit/index.ts offers `recordAudit(trx, record)`,
 * replace the body of this function with that call: every caller already passes its transaction.
 */
export async function recordComplianceAudit(_trx: Knex | Knex.Transaction, logger: Logger, record: ComplianceAuditRecord): Promise<void> {
  logger.info({ compliance_audit: record }, `compliance audit: ${record.action}`);
}
