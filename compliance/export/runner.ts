import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import type { JobContext, JobOutcome } from '../../retention-jobs/index.ts';
import type { Services } from '../../server/services.ts';
import { recordComplianceAudit, recordComplianceFailure } from '../audit.ts';
import { ensureExportKeyAsync, loadExportKey, type ExportKey } from '../custody/keys.ts';
import type { RenderedBatch } from './batch-render.ts';
import { ExportBatchWorker } from './export-worker.ts';
import { deliverBySmtp } from './delivery.ts';
import { emptyCounts, type BatchCounts, type ExportFormatName } from './formats/format.ts';
import type { ExportCursor } from './records.ts';
import { countUpdates, nextBoundary } from './source.ts';
import { ExportStorage } from './storage.ts';

/** What a message export job was asked for (its public data). */
export interface ExportJobData {
  format: ExportFormatName;
  /** Incremental jobs continue from the previous one's cursor; ranged ones (from/to) stand alone. */
  incremental: boolean;
  from?: number;
  to?: number;
}

/** A running export's resume point, saved with every committed batch. */
interface ExportState {
  endTime: number;
  jobStart: ExportCursor;
  cursor: ExportCursor;
  seq: number;
  done: number;
  total: number;
  totals: BatchCounts;
}

/** Transactions that wrote before the end time must have committed before the export reads past it. */
const SETTLE_MS = 1000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

let cachedKey: { file: string; key: ExportKey } | undefined;

/** The signing key of this process (loaded once; generated at first start if missing). */
export async function exportKey(services: Pick<Services, 'config'>): Promise<ExportKey> {
  const paths = await ensureExportKeyAsync(services.config);
  if (cachedKey?.file !== paths.key) cachedKey = { file: paths.key, key: loadExportKey(paths) };
  return cachedKey.key;
}

/**
 * Fixes the job's end time: a second ago by the database clock, and only once every transaction that
 * had started writing by then has finished, so no update at or before the end time can still appear.
 */
async function settledEndTime(db: Knex): Promise<number> {
  const now = Number((await db.raw('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now')).rows[0].now);
  const xid = String((await db.raw('SELECT pg_current_xact_id()::text AS xid')).rows[0].xid);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { done } = (await db.raw('SELECT pg_snapshot_xmin(pg_current_snapshot()) >= ?::xid8 AS done', [xid])).rows[0];
    if (done) break;
    await sleep(50);
  }
  return now - SETTLE_MS;
}

/** Where the next incremental export starts: the end of the last incremental batch committed. */
export async function incrementalFrontier(db: Knex | Knex.Transaction): Promise<ExportCursor | undefined> {
  const row = await db('compliance_export_batches').where({ incremental: true }).orderBy('id', 'desc').first('to_update_at', 'to_post_id');
  return row ? { updateAt: Number(row.to_update_at), postId: row.to_post_id } : undefined;
}

/** The store key of a batch zip: `compliance-export-<date>-<job id>/batch<seq>-<from>-<to>.zip`. */
export function batchKey(jobId: string, createAt: number, seq: number, from: ExportCursor, to: ExportCursor): string {
  const day = new Date(createAt).toISOString().slice(0, 10);
  return `compliance-export-${day}-${jobId}/batch${String(seq).padStart(3, '0')}-${Math.max(0, from.updateAt)}-${to.updateAt}.zip`;
}

function addCounts(a: BatchCounts, b: BatchCounts): BatchCounts {
  const sum = { ...a };
  for (const key of Object.keys(b) as (keyof BatchCounts)[]) sum[key] = (a[key] ?? 0) + b[key];
  return sum;
}

interface WrittenBatch extends RenderedBatch {
  to: ExportCursor;
  key: string;
}

/**
 * Writes one batch, `state.cursor` (exclusive) to `to`: the export worker thread renders it into a
 * temporary zip (documents, attachments, manifest.json and its signature, in one REPEATABLE READ
 * snapshot); then, once the batch before it has committed (`previousCommitted`), the zip moves into
 * place. Nothing is recorded yet: the caller commits the batch row and the cursor together.
 */
async function writeBatch(ctx: JobContext, worker: ExportBatchWorker, state: ExportState, seq: number, to: ExportCursor, previousCommitted: Promise<void>, data: ExportJobData, storage: ExportStorage): Promise<WrittenBatch> {
  const { services, job } = ctx;
  const { config } = services;
  const tempDir = storage.tempDir();
  const tempFile = path.join(tempDir, `${job.id}-${seq}-${crypto.randomBytes(4).toString('hex')}.zip`);
  try {
    const rendered = await worker.render({
      jobId: job.id, seq, format: data.format, incremental: data.incremental, from: state.cursor, to,
      jobStartTime: state.jobStart.updateAt, jobEndTime: state.endTime, tempFile, tempDir,
    });
    const written: WrittenBatch = { ...rendered, to, key: batchKey(job.id, job.create_at, seq, state.cursor, to) };
    if (config.exportStepDelayMs) await sleep(config.exportStepDelayMs, ctx.signal);
    // The store and the mail see batches in order: nothing of this one before the last one committed,
    // and nothing once the job was told to stop while this one was written beside it.
    await previousCommitted;
    ctx.throwIfStopped();
    // Mail goes out from the finished zip before it moves into the store (at least once: a crash
    // before the batch commits sends it again, with the same Message-IDs).
    if (written.emlEntries.length && config.exportGlobalRelayDelivery === 'smtp') await deliverBySmtp(config, tempFile, written.emlEntries, ctx.signal);
    await storage.moveIn(tempFile, written.key);
    return written;
  } finally {
    await fsp.rm(tempFile, { force: true });
  }
}

/** Removes temporary zips of this job left by a crashed attempt. */
async function removeStaleTemps(storage: ExportStorage, jobId: string): Promise<void> {
  const dir = storage.tempDir();
  for (const name of await fsp.readdir(dir)) if (name.startsWith(`${jobId}-`)) await fsp.rm(path.join(dir, name), { force: true });
}

/**
 * The message export job: batches of `exportBatchSize` post updates after the cursor, up to the end
 * time fixed when the job first started. Each batch's row and the job's advanced cursor commit in one
 * transaction (fenced by the job's lease), after the batch's zip is in place: a crash before that
 * commit rewrites the same batch, a crash after it resumes with the next one. No gap, no duplicate.
 */
export async function runMessageExport(ctx: JobContext): Promise<JobOutcome> {
  try {
    return await exportAllBatches(ctx);
  } catch (err) {
    // A job told to stop (canceled, shutting down, taken over) has not failed: it resumes or ends elsewhere.
    if (!ctx.signal.aborted) {
      const { services, job } = ctx;
      await recordComplianceFailure(services, {
        action: 'export_run_failed', actorId: job.created_by, jobId: job.id, apiPath: 'job:message_export', nodeId: services.config.nodeId,
        details: { format: (job.data as unknown as ExportJobData).format, error: (err as Error)?.message ?? String(err) },
      }, err as Error);
    }
    throw err;
  }
}

async function exportAllBatches(ctx: JobContext): Promise<JobOutcome> {
  const { services, job } = ctx;
  const { db, config } = services;
  const data = job.data as unknown as ExportJobData;
  const storage = ExportStorage.for(config);
  await removeStaleTemps(storage, job.id);
  let state = job.state as unknown as ExportState;
  if (!state.endTime) {
    const endTime = data.to ?? (await settledEndTime(db));
    const start: ExportCursor = data.from !== undefined ? { updateAt: data.from - 1, postId: null } : ((await incrementalFrontier(db)) ?? { updateAt: config.exportFromTimestamp - 1, postId: null });
    const total = await countUpdates(db, start, endTime);
    state = { endTime, jobStart: start, cursor: start, seq: 0, done: 0, total, totals: emptyCounts() };
    await ctx.checkpoint({
      state: state as unknown as Record<string, unknown>,
      data: { start_time: String(Math.max(0, start.updateAt + 1)), end_time: String(endTime), total_posts: String(total) },
    });
  }
  // Batches are read and rendered by PostgreSQL, most of an export's CPU, on connections of their own
  // whose local backends run at the lowest priority; what this process does with them (COPY bytes
  // into zip chunks, hashes, signature) runs on a worker thread at a lower priority than the API's.
  // Both keep live requests' latency. The worker reads on two connections, so that PostgreSQL sorts
  // and renders the next batch while the current one is compressed, hashed, fsynced and committed.
  const worker = new ExportBatchWorker({ config, db, keyPaths: await ensureExportKeyAsync(config), signal: ctx.signal });
  try {
    return await exportFrom(ctx, worker, state, data, storage);
  } finally {
    await worker.close();
  }
}

interface RunningBatch {
  seq: number;
  to: ExportCursor;
  written: Promise<WrittenBatch>;
  /** Settled once the batch has committed (or failed to): the next batch waits for it before its zip goes into the store. */
  committed: PromiseWithResolvers<void>;
}

/**
 * Plans the batch after `state.cursor` (where it ends) and starts writing it beside `previous`: the
 * worker reads its document once `previous` has read its own (PostgreSQL sorts and renders this one
 * meanwhile, and only one document at a time streams through memory), and it moves into the store
 * once `previous` has committed.
 */
async function startBatch(ctx: JobContext, worker: ExportBatchWorker, state: ExportState, seq: number, previous: RunningBatch | undefined, data: ExportJobData, storage: ExportStorage): Promise<RunningBatch> {
  const { db, config } = ctx.services;
  const { to } = await nextBoundary(db, state.cursor, state.endTime, config.exportBatchSize);
  const committed = Promise.withResolvers<void>();
  committed.promise.catch(() => undefined);
  const written = writeBatch(ctx, worker, state, seq, to, previous?.committed.promise ?? Promise.resolve(), data, storage);
  return { seq, to, written, committed };
}

async function exportFrom(ctx: JobContext, worker: ExportBatchWorker, initial: ExportState, data: ExportJobData, storage: ExportStorage): Promise<JobOutcome> {
  let running = await startBatch(ctx, worker, initial, initial.seq + 1, undefined, data, storage);
  let state = initial;
  while (true) {
    let next: RunningBatch | undefined;
    try {
      ctx.throwIfStopped();
      // Batches commit in order, one at a time; the next one is already being written beside this one.
      if (running.to.postId !== null) next = await startBatch(ctx, worker, { ...state, cursor: running.to }, running.seq + 1, running, data, storage);
      state = await commitBatch(ctx, state, running.seq, await running.written, data);
      running.committed.resolve();
    } catch (err) {
      running.committed.reject(err);
      // Neither batch may outlive its reader: the one beside it stops at that gate at the latest
      // (its temporary zip removed).
      await Promise.all([running.written.catch(() => undefined), next?.written.catch(() => undefined)]);
      throw err;
    }
    if (!next) break;
    running = next;
  }
  return {
    status: state.totals.warnings > 0 ? 'warning' : 'success',
    data: { batches: String(state.seq), messages_exported: String(state.totals.messages), warning_count: String(state.totals.warnings) },
  };
}

/** Records a written batch and the job's advanced cursor in one transaction; returns the new state. */
async function commitBatch(ctx: JobContext, state: ExportState, seq: number, batch: WrittenBatch, data: ExportJobData): Promise<ExportState> {
  const { services, job } = ctx;
  const { config, logger } = services;
  if (config.exportStepDelayMs) await sleep(config.exportStepDelayMs, ctx.signal);
  const done = state.done + batch.counts.posts;
  const totals = addCounts(state.totals, batch.counts);
  const next: ExportState = { ...state, cursor: batch.to, seq, done, totals };
  const final = batch.to.postId === null;
  await ctx.checkpoint(
    {
      state: next as unknown as Record<string, unknown>,
      progress: final ? 99 : Math.min(99, Math.floor((done / Math.max(1, state.total)) * 100)),
      data: { batches: String(seq), messages_exported: String(totals.messages), warning_count: String(totals.warnings), is_downloadable: 'true' },
    },
    async (trx) => {
      await trx('compliance_export_batches').insert({
        job_id: job.id, seq, format: data.format, incremental: data.incremental,
        from_update_at: state.cursor.updateAt, from_post_id: state.cursor.postId, to_update_at: batch.to.updateAt, to_post_id: batch.to.postId,
        file_key: batch.key, size: batch.size, sha256: batch.sha256, crc32: batch.crc32, manifest_sha256: batch.manifestSha256,
        counts: JSON.stringify(batch.counts), warnings: batch.counts.warnings,
        delivery: batch.emlEntries.length && config.exportGlobalRelayDelivery === 'smtp' ? 'smtp' : 'store',
        create_at: Date.now(),
      });
      if (final) {
        await recordComplianceAudit(trx, {
          action: 'export_run_finished', actorId: job.created_by, jobId: job.id, apiPath: 'job:message_export', nodeId: config.nodeId,
          details: { format: data.format, batches: seq, end_time: state.endTime, counts: totals },
        });
      }
    },
  );
  const memory = process.memoryUsage();
  logger.info({ job_id: job.id, batch: seq, key: batch.key, counts: batch.counts, rss_mib: Math.round(memory.rss / 2 ** 20), heap_mib: Math.round(memory.heapUsed / 2 ** 20) }, 'compliance export batch committed');
  return next;
}
