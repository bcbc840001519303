import { complianceJobTypes, prepareCompliance } from '../compliance/index.ts';
import { caseExportJob } from '../compliance/ediscovery/export/job.ts';
import { startJobRoles, type JobTypes } from '../retention-jobs/index.ts';
import { retentionJobTypes } from '../retention-jobs/retention/index.ts';
import { searchIndexJob } from './search/search-index-job.ts';
import type { Services } from './services.ts';

/** Every background job type this server knows. */
export const jobTypes: JobTypes = new Map([...complianceJobTypes, caseExportJob, ...retentionJobTypes, searchIndexJob].map((t) => [t.type, t]));

/** Start-up of the background work: compliance's signing key, then the scheduler and worker roles. */
export async function startBackgroundJobs(services: Services): Promise<() => Promise<void>> {
  // Generated in the background at first start; a failure is logged, and an export then reports it.
  prepareCompliance(services.config).catch((err) => services.logger.error({ err }, 'could not prepare the compliance export signing key'));
  return startJobRoles(services, jobTypes.values());
}
