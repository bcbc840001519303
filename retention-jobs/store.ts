import type { Knex } from 'knex';
import { ConflictError, NotFoundError } from '../server/lib/errors.ts';
import { newId } from '../server/lib/ids.ts';
import type { JobRow, JobStatus, JobUpdate } from './model.ts';

/** "Now" in epoch milliseconds by the database's clock, so that leases mean the same on every node. */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/** The channel workers LISTEN on; a NOTIFY wakes them when a job is created. */
export const JOBS_CHANNEL = 'custodian_jobs';

type Db = Knex | Knex.Transaction;

const activeStatuses: JobStatus[] = ['pending', 'in_progress', 'cancel_requested'];

/** Inserts a pending job and wakes the workers (on commit, when `db` is a transaction). */
export async function insertJob(db: Db, props: { type: string; data?: Record<string, unknown>; createdBy?: string; state?: Record<string, unknown> }): Promise<JobRow> {
  const [row] = (await db('jobs')
    .insert({
      id: newId(), type: props.type, status: 'pending', create_at: db.raw(DB_NOW_MS), progress: 0,
      data: JSON.stringify(props.data ?? {}), state: JSON.stringify(props.state ?? {}), created_by: props.createdBy ?? '',
    })
    .returning('*')) as JobRow[];
  await db.raw('SELECT pg_notify(?, ?)', [JOBS_CHANNEL, row.type]);
  return row;
}

export async function findJob(db: Db, id: string): Promise<JobRow | undefined> {
  return (await db('jobs').where({ id }).first()) as JobRow | undefined;
}

export async function getJobRow(db: Db, id: string): Promise<JobRow> {
  const row = await findJob(db, id);
  if (!row) throw new NotFoundError('app.job.get.app_error', 'Unable to find the job.');
  return row;
}

/** Newest first, by page (the jobs table is small: page/per_page is the Mattermost API's contract). */
export async function listJobRows(db: Db, options: { types: string[]; page: number; perPage: number; statuses?: string[] }): Promise<JobRow[]> {
  const query = db('jobs').whereIn('type', options.types);
  if (options.statuses?.length) query.whereIn('status', options.statuses);
  return (await query.orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(options.perPage).offset(options.page * options.perPage)) as JobRow[];
}

/** True when a job of `type` is pending or running. */
export async function hasActiveJob(db: Db, type: string): Promise<boolean> {
  return Boolean(await db('jobs').where({ type }).whereIn('status', activeStatuses).first('id'));
}

/**
 * Asks a job to stop: a pending job is canceled at once, a running one is marked cancel_requested and
 * its worker stops at its next step. A finished job cannot be canceled (ConflictError).
 */
export async function requestJobCancel(db: Db, id: string): Promise<JobRow> {
  const [row] = (await db('jobs')
    .where({ id })
    .whereIn('status', activeStatuses)
    .update({
      status: db.raw("CASE WHEN status = 'pending' THEN 'canceled' ELSE 'cancel_requested' END"),
      last_activity_at: db.raw(DB_NOW_MS),
    })
    .returning('*')) as JobRow[];
  if (row) return row;
  const existing = await getJobRow(db, id);
  throw new ConflictError('app.job.cancel.app_error', `The job has already finished (${existing.status}).`);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === '23505';
}

/**
 * Claims one job for this worker, or returns undefined. First a running job whose lease expired (its
 * worker died): it is taken over where it stopped. Then the oldest pending job of a type that has no
 * running job. The partial unique index jobs_one_running_per_type makes a lost race fail rather than
 * run two jobs of one type; that is reported as "nothing claimed".
 */
export async function claimJob(db: Knex, props: { types: string[]; nodeId: string; leaseMs: number }): Promise<JobRow | undefined> {
  if (props.types.length === 0) return undefined;
  const token = newId();
  try {
    const taken = await db.raw(
      `UPDATE jobs j SET lease_token = :token, lease_expires_at = ${DB_NOW_MS} + :lease, node_id = :node,
         attempts = j.attempts + 1, last_activity_at = ${DB_NOW_MS}
       FROM (SELECT id FROM jobs WHERE type = ANY(:types) AND status IN ('in_progress', 'cancel_requested')
             AND lease_expires_at < ${DB_NOW_MS} ORDER BY create_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) c
       WHERE j.id = c.id RETURNING j.*`,
      { token, lease: props.leaseMs, node: props.nodeId, types: props.types },
    );
    if (taken.rows[0]) return taken.rows[0] as JobRow;
    const started = await db.raw(
      `UPDATE jobs j SET status = 'in_progress', start_at = ${DB_NOW_MS}, lease_token = :token,
         lease_expires_at = ${DB_NOW_MS} + :lease, node_id = :node, attempts = j.attempts + 1, last_activity_at = ${DB_NOW_MS}
       FROM (SELECT id FROM jobs p WHERE type = ANY(:types) AND status = 'pending'
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.type = p.type AND r.status IN ('in_progress', 'cancel_requested'))
             ORDER BY create_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) c
       WHERE j.id = c.id RETURNING j.*`,
      { token, lease: props.leaseMs, node: props.nodeId, types: props.types },
    );
    return started.rows[0] as JobRow | undefined;
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
}

/** Thrown inside a checkpoint when this worker no longer holds the job's lease. */
export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lost the lease on job ${jobId}`);
  }
}

/**
 * Renews the lease and records `update`, only while `token` still holds it; returns the job's status
 * (to notice a cancel request), or throws LeaseLostError.
 */
export async function renewLease(db: Db, jobId: string, token: string, leaseMs: number, update: JobUpdate = {}): Promise<JobStatus> {
  const changes: Record<string, unknown> = { lease_expires_at: db.raw(`${DB_NOW_MS} + ?`, [leaseMs]), last_activity_at: db.raw(DB_NOW_MS) };
  if (update.progress !== undefined) changes.progress = Math.max(0, Math.min(100, Math.floor(update.progress)));
  if (update.data) changes.data = db.raw('data || ?::jsonb', [JSON.stringify(update.data)]);
  if (update.state) changes.state = JSON.stringify(update.state);
  const [row] = (await db('jobs').where({ id: jobId, lease_token: token }).update(changes).returning('status')) as { status: JobStatus }[];
  if (!row) throw new LeaseLostError(jobId);
  return row.status;
}

/** Ends a job this worker holds: final status and data; false when the lease was lost meanwhile. */
export async function finishJob(db: Db, jobId: string, token: string, status: JobStatus, data: Record<string, unknown> = {}): Promise<boolean> {
  const changes: Record<string, unknown> = {
    status, lease_token: null, lease_expires_at: 0, last_activity_at: db.raw(DB_NOW_MS), data: db.raw('data || ?::jsonb', [JSON.stringify(data)]),
  };
  if (status === 'success' || status === 'warning') changes.progress = 100;
  const count = await db('jobs').where({ id: jobId, lease_token: token }).update(changes);
  return count > 0;
}

/** Gives a running job back (shutdown): it stays in progress with an expired lease, so any worker resumes it. */
export async function releaseJob(db: Db, jobId: string, token: string): Promise<void> {
  await db('jobs').where({ id: jobId, lease_token: token }).update({ lease_token: null, lease_expires_at: 0, node_id: '' });
}

export async function dbNowMs(db: Db): Promise<number> {
  return Number((await db.raw(`SELECT ${DB_NOW_MS} AS now`)).rows[0].now);
}
