// Compliance's public face: the job types it adds, key preparation at start, and offline verification.
import type { JobTypeDefinition } from '../retention-jobs/index.ts';
import type { Config } from '../server/config/schema.ts';
import { ensureExportKeyAsync } from './custody/keys.ts';
import { messageExportJob } from './export/job.ts';
import { complianceReportJob } from './reports/report.ts';

export { recordComplianceAudit, type ComplianceAuditRecord } from './audit.ts';
export { defaultKeyPaths, ensureExportKey, readCertificate } from './custody/keys.ts';
export { verifyExportZip, type VerifyReport } from './custody/verify.ts';
export { exportFormats, type ExportFormatName } from './export/formats/format.ts';
export { incrementalFrontier } from './export/runner.ts';
export { ExportStorage } from './export/storage.ts';
export { messageExportJob } from './export/job.ts';
export { complianceReportJob } from './reports/report.ts';
export { createReport, getReport, listReports, reportDownload, type NewReport } from './reports/service.ts';
export { presentReport } from './reports/report.ts';

/** The job types compliance adds to the job system. */
export const complianceJobTypes: JobTypeDefinition[] = [messageExportJob, complianceReportJob];

/**
 * Start-up work: the export signing key and certificate exist (generated at first start, off the event
 * loop, so the server answers meanwhile; an export waits for it).
 */
export function prepareCompliance(config: Config): Promise<void> {
  return ensureExportKeyAsync(config).then(() => undefined);
}
