import type { Knex } from 'knex';
import type { Actor } from '../server/auth/actor.ts';
import type { Permission } from '../server/auth/permissions.ts';
import type { Config } from '../server/config/schema.ts';
import type { AppError } from '../server/lib/errors.ts';
import type { Logger } from '../server/lib/logger.ts';
import type { ByteRange } from '../server/files/storage.ts';
import type { Services } from '../server/services.ts';
import type { Readable } from 'node:stream';

export const jobStatuses = ['pending', 'in_progress', 'success', 'warning', 'error', 'cancel_requested', 'canceled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** Statuses after which a job never changes again. */
export const finishedStatuses: ReadonlySet<JobStatus> = new Set(['success', 'warning', 'error', 'canceled']);

/** A row of the jobs table. */
export interface JobRow {
  id: string;
  type: string;
  status: JobStatus;
  create_at: number;
  start_at: number;
  last_activity_at: number;
  progress: number;
  /** Public details (Mattermost's Job.data), shown by the API. */
  data: Record<string, unknown>;
  /** The handler's private resume point (a cursor), never shown by the API. */
  state: Record<string, unknown>;
  created_by: string;
  node_id: string;
  lease_token: string | null;
  lease_expires_at: number;
  attempts: number;
}

/** Mattermost's Job JSON: data values are strings. */
export interface JobJson {
  id: string;
  type: string;
  priority: number;
  create_at: number;
  start_at: number;
  last_activity_at: number;
  status: JobStatus;
  progress: number;
  data: Record<string, string>;
}

export function presentJob(row: JobRow): JobJson {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(row.data ?? {})) {
    if (value !== undefined && value !== null) data[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    id: row.id, type: row.type, priority: 0, create_at: row.create_at, start_at: row.start_at,
    last_activity_at: row.last_activity_at, status: row.status, progress: row.progress, data,
  };
}

/** What a job changes when it records progress: merged into data, replacing state. */
export interface JobUpdate {
  progress?: number;
  data?: Record<string, unknown>;
  state?: Record<string, unknown>;
}

/** Why a running job was told to stop. */
export type StopReason = 'cancel' | 'lease_lost' | 'shutdown';

/** What a job handler gets while it runs. */
export interface JobContext {
  /** The job as claimed, with the `state` a previous attempt saved (resume from there). */
  readonly job: JobRow;
  readonly services: Services;
  /** Aborted when the job is canceled, this worker lost its lease, or the process shuts down. */
  readonly signal: AbortSignal;
  /**
   * Runs `work` in a transaction that also records `update`, but only while this worker still holds
   * the job's lease (otherwise nothing is committed and the job stops). Work and progress commit
   * together or not at all. Throws (after committing) once the job has been told to stop. `options.db`:
   * a pool of the handler's own to run the transaction on (the job row is the same database's).
   */
  checkpoint<T>(update: JobUpdate, work?: (trx: Knex.Transaction) => Promise<T>, options?: { db?: Knex }): Promise<T | undefined>;
  /** Throws when the job has been told to stop (call between steps). */
  throwIfStopped(): void;
}

/** How a handler's run ended, when it did not throw. */
export interface JobOutcome {
  status: 'success' | 'warning';
  data?: Record<string, unknown>;
}

/** A file a job produced, which `GET /jobs/{id}/download` streams (with byte ranges). */
export interface JobDownload {
  name: string;
  size: number;
  contentType: string;
  /** A stable validator of the content (for ETag and If-Range). */
  etag: string;
  open(range?: ByteRange): Promise<Readable>;
}

/** Everything the job system knows about one type of job. */
export interface JobTypeDefinition {
  type: string;
  /** Who may do what with jobs of this type through the API. */
  permissions: { create: Permission; read: Permission; download?: Permission };
  /** Validates and normalises the data given at creation (API or CLI); throws InvalidInputError. */
  prepare?(data: Record<string, string>, services: Pick<Services, 'config' | 'db'>): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** The recurring schedule (`daily HH:MM` or cron) this configuration asks for, if any. */
  schedule?(config: Config): string | undefined;
  /** Runs in the transaction that creates a job (audit records); `who` is unset for scheduled runs. */
  onCreated?(trx: Knex.Transaction, job: JobRow, who: { userId: string; ipAddress?: string } | undefined, logger: Logger): Promise<void>;
  run(ctx: JobContext): Promise<JobOutcome>;
  /** The downloadable result of a job for `actor` (who has the download permission), if it has one. */
  download?(services: Services, job: JobRow, actor: Actor): Promise<JobDownload | undefined>;
  /**
   * Records a refused download of a job of this type (no permission, nothing to download yet) on its
   * own, since no action happens to carry the record. A failure here is logged, never shown instead.
   */
  onDownloadRefused?(services: Services, job: JobRow, actor: Actor, error: AppError): Promise<void>;
}
