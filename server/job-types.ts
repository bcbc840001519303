import { complianceJobTypes, prepareCompliance } from '../compliance/index.ts';
import { startJobRoles, type JobTypes } from '../retention-jobs/index.ts';
import { retentionJobTypes } from '../retention-jobs/retention/index.ts';
import type { Services } from './services.ts';

/** Every background job type this server knows. */
export const jobTypes: JobTypes = new Map([...complianceJobTypes, ...retentionJobTypes].map((t) => [t.type, t]));

/** Start-up of the background work: compliance's signing key, then the scheduler and worker roles. */
export async function startBackgroundJobs(services: Services): Promise<() => Promise<void>> {
  prepareCompliance(services.config);
  return startJobRoles(services, jobTypes.values());
}
