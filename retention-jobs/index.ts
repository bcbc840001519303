// The job system's public face: job types plug in a JobTypeDefinition; the server starts the roles its
// configuration asks for; the API and CLI use the actor-checked operations.
import type { Services } from '../server/services.ts';
import type { JobTypeDefinition } from './model.ts';
import { JobScheduler } from './scheduler.ts';
import { JobWorker } from './worker.ts';

export type { JobContext, JobDownload, JobJson, JobOutcome, JobRow, JobStatus, JobTypeDefinition, JobUpdate } from './model.ts';
export { finishedStatuses, jobStatuses, presentJob } from './model.ts';
export { cancelJob, createJob, createJobUnchecked, getJob, jobDownload, listJobs, type JobTypes } from './service.ts';
export { findJob, insertJob } from './store.ts';
export { parseSchedule, ScheduleSyntaxError } from './schedule.ts';
export { JobScheduler } from './scheduler.ts';
export { JobStoppedError, JobWorker } from './worker.ts';

/**
 * Starts the job roles `config.jobRole` names (scheduler, worker, both or neither) for these job types;
 * returns the function that stops them (running jobs are given back for another worker to resume).
 */
export async function startJobRoles(services: Services, types: Iterable<JobTypeDefinition>): Promise<() => Promise<void>> {
  const role = services.config.jobRole;
  const list = [...types];
  const stops: (() => Promise<void>)[] = [];
  if (role === 'all' || role === 'scheduler') {
    const scheduler = new JobScheduler(services, list);
    await scheduler.start();
    stops.push(() => scheduler.stop());
  }
  if (role === 'all' || role === 'worker') {
    const worker = new JobWorker(services, list, { leaseMs: services.config.jobLeaseSeconds * 1000 });
    worker.start();
    stops.push(() => worker.stop());
  }
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
