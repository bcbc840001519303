import type { Knex } from 'knex';
import type { Actor } from '../server/auth/actor.ts';
import { authorize, can } from '../server/auth/policy.ts';
import { AppError, InvalidInputError, NotFoundError } from '../server/lib/errors.ts';
import type { Services } from '../server/services.ts';
import type { JobDownload, JobRow, JobTypeDefinition } from './model.ts';
import { findJob, getJobRow, insertJob, listJobRows, requestJobCancel } from './store.ts';

/** The job types a process knows, by name. */
export type JobTypes = ReadonlyMap<string, JobTypeDefinition>;

const system = { kind: 'system' } as const;

function definitionOf(types: JobTypes, type: string): JobTypeDefinition {
  const definition = types.get(type);
  if (!definition) throw new InvalidInputError('api.job.create.type.app_error', `Unknown job type "${type}".`, `known types: ${[...types.keys()].join(', ')}`);
  return definition;
}

/** A job the actor may read (a job of a type they may not read is "not found"). */
async function readableJob(db: Knex, types: JobTypes, actor: Actor, id: string): Promise<{ job: JobRow; definition: JobTypeDefinition }> {
  const job = await getJobRow(db, id);
  const definition = types.get(job.type);
  if (!definition || !can(actor, definition.permissions.read, system)) throw new NotFoundError('app.job.get.app_error', 'Unable to find the job.');
  return { job, definition };
}

/** Creates a pending job of `type` for the actor (permission per type, data checked by the type). */
export async function createJob(services: Pick<Services, 'db' | 'config' | 'logger'>, types: JobTypes, actor: Actor, props: { type: string; data?: Record<string, string> }): Promise<JobRow> {
  const definition = definitionOf(types, props.type);
  authorize(actor, definition.permissions.create, system);
  return createJobUnchecked(services, definition, { data: props.data, trigger: 'api', who: { userId: actor.userId, ipAddress: actor.ipAddress } });
}

/** Creates a job without a permission check: for the command line, whose user runs the server. */
export async function createJobUnchecked(
  services: Pick<Services, 'db' | 'config' | 'logger'>,
  definition: JobTypeDefinition,
  props: { data?: Record<string, string>; trigger: string; who?: { userId: string; ipAddress?: string } },
): Promise<JobRow> {
  const data = { ...(await definition.prepare?.(props.data ?? {}, services)), trigger: props.trigger };
  return services.db.transaction(async (trx) => {
    const job = await insertJob(trx, { type: definition.type, data, createdBy: props.who?.userId ?? '' });
    await definition.onCreated?.(trx, job, props.who, services.logger);
    return job;
  });
}

/** Jobs of the types the actor may read (optionally one type), newest first. */
export async function listJobs(db: Knex, types: JobTypes, actor: Actor, options: { type?: string; page: number; perPage: number; statuses?: string[] }): Promise<JobRow[]> {
  let readable = [...types.values()].filter((d) => can(actor, d.permissions.read, system)).map((d) => d.type);
  if (options.type !== undefined) {
    definitionOf(types, options.type);
    if (!readable.includes(options.type)) authorize(actor, types.get(options.type)!.permissions.read, system);
    readable = [options.type];
  }
  if (readable.length === 0) authorize(actor, 'manage_system', system);
  return listJobRows(db, { types: readable, page: options.page, perPage: options.perPage, statuses: options.statuses });
}

export async function getJob(db: Knex, types: JobTypes, actor: Actor, id: string): Promise<JobRow> {
  return (await readableJob(db, types, actor, id)).job;
}

/** Cancels a job for the actor (needs the type's create permission). */
export async function cancelJob(db: Knex, types: JobTypes, actor: Actor, id: string): Promise<JobRow> {
  const { definition } = await readableJob(db, types, actor, id);
  authorize(actor, definition.permissions.create, system);
  return requestJobCancel(db, id);
}

/**
 * The downloadable result of a job, when the actor may download it. A refused attempt on an existing
 * job (not readable, not downloadable, no permission, nothing yet) goes to the type's audit hook.
 */
export async function jobDownload(services: Services, types: JobTypes, actor: Actor, id: string): Promise<{ job: JobRow; download: JobDownload }> {
  const job = await findJob(services.db, id);
  const definition = job ? types.get(job.type) : undefined;
  try {
    if (!job || !definition || !can(actor, definition.permissions.read, system)) throw new NotFoundError('app.job.get.app_error', 'Unable to find the job.');
    if (!definition.download || !definition.permissions.download) throw new InvalidInputError('api.job.download.not_downloadable.app_error', 'Jobs of this type have nothing to download.');
    authorize(actor, definition.permissions.download, system);
    const download = await definition.download(services, job, actor);
    if (!download) throw new NotFoundError('api.job.download.no_file.app_error', 'This job has no file to download (yet).');
    return { job, download };
  } catch (err) {
    if (job && definition?.onDownloadRefused && err instanceof AppError) {
      await definition.onDownloadRefused(services, job, actor, err).catch((auditErr: unknown) => services.logger.error({ err: auditErr, job_id: job.id }, 'could not record a refused download in the audit log'));
    }
    throw err;
  }
}
