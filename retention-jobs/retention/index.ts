// Data retention's public face: policies (API), the preview, the purge and its job type.
import type { JobTypeDefinition } from '../model.ts';
import { dataRetentionJob } from './job.ts';

export * from './policies.ts';
export { previewRetention, type PreviewProposal, type RetentionPreview } from './preview.ts';
export { currentPlan, drainFileRemovals, newPurgeState, runRetentionPurge, type PurgeDeps, type PurgeOptions, type PurgeState, type PurgeTotals } from './purge.ts';
export { dataRetentionJob } from './job.ts';

/** The job types retention adds to the job system. */
export const retentionJobTypes: JobTypeDefinition[] = [dataRetentionJob];
