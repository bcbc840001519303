import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { JobContext, JobOutcome } from '../../retention-jobs/index.ts';
import { openPurgeConnection } from '../../retention-jobs/retention/low-priority.ts';
import { NotFoundError } from '../../server/lib/errors.ts';
import type { Services } from '../../server/services.ts';
import { version } from '../../server/lib/version.ts';
import { recordComplianceAudit, recordComplianceFailure } from '../audit.ts';
import { ensureExportKeyAsync, loadExportKey, type ExportKey } from '../custody/keys.ts';
import { buildManifest } from '../custody/manifest.ts';
import { signDetached } from '../custody/signature.ts';
import { deliverBySmtp } from './delivery.ts';
import { actianceFormat } from './formats/actiance.ts';
import { csvFormat } from './formats/csv.ts';
import { globalRelayFormat } from './formats/eml.ts';
import { emptyCounts, type BatchCounts, type ExportFormat, type ExportFormatName, type FormatContext } from './formats/format.ts';
import { jsonlFormat } from './formats/jsonl.ts';
import type { ExportCursor, ExportFile } from './records.ts';
import { BatchSource, countUpdates, nextBoundary } from './source.ts';
import { ExportStorage } from './storage.ts';
import { ZipWriter } from './zip.ts';

const formats: Record<ExportFormatName, ExportFormat> = { actiance: actianceFormat, csv: csvFormat, globalrelay: globalRelayFormat, jsonl: jsonlFormat };

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

interface WrittenBatch {
  to: ExportCursor;
  key: string;
  size: number;
  sha256: string;
  crc32: number;
  manifestSha256: string;
  counts: BatchCounts;
  emlEntries: string[];
}

async function openStored(services: Services, postId: string, file: ExportFile, warn: (text: string) => void): Promise<Readable | undefined> {
  try {
    return await services.files.open(file.path);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    warn(`file ${file.id} (${file.name}) of post ${postId} is missing from the file store`);
    return undefined;
  }
}

/**
 * Writes one batch, `state.cursor` (exclusive) to `to`: in one REPEATABLE READ snapshot, streams the
 * format's documents and the attachments into a temporary zip, adds manifest.json (every file's
 * SHA-256) and its detached signature, then, once the batch before it has committed (`previous`),
 * moves the zip into place. Nothing is recorded yet: the caller commits the batch row and the cursor
 * together.
 */
async function writeBatch(ctx: JobContext, db: Knex, state: ExportState, seq: number, to: ExportCursor, order: BatchOrder, data: ExportJobData, storage: ExportStorage, key: ExportKey): Promise<WrittenBatch> {
  const { services, job } = ctx;
  const { config } = services;
  const tempDir = storage.tempDir();
  const tempFile = path.join(tempDir, `${job.id}-${seq}-${crypto.randomBytes(4).toString('hex')}.zip`);
  const pause = () => (config.exportStepDelayMs ? sleep(config.exportStepDelayMs, ctx.signal) : Promise.resolve());
  try {
    const written = await db.transaction(async (trx) => {
      await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      // Every cursor is read to the end: plan for all rows (hash joins, one sort), not the first few.
      await trx.raw('SET LOCAL cursor_tuple_fraction = 1.0');
      // A rendered batch document is sorted whole (tens of MiB when every channel lists 50 members):
      // in memory, not through temporary files.
      await trx.raw("SET LOCAL work_mem = '64MB'");
      const source = new BatchSource(trx, { from: state.cursor, to, startTime: state.cursor.updateAt, endTime: to.updateAt, jobStartTime: state.jobStart.updateAt }, order.previousRead);
      const zip = new ZipWriter(tempFile, { date: new Date(state.endTime) });
      const counts = emptyCounts();
      const warnings: string[] = [];
      const attachments = new Map<string, { postId: string; file: ExportFile }>();
      const warn = (text: string) => warnings.push(text);
      const formatContext: FormatContext = {
        source, zip, counts, exportTime: state.endTime, jobId: job.id, batchSeq: seq, tempDir, warn,
        attach(postId, file) {
          const name = `files/${postId}/${file.id}-${file.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'file'}`;
          attachments.set(name, { postId, file });
          return name;
        },
        openFile: (message, file) => openStored(services, message.postId, file, warn),
      };
      try {
        try {
          await formats[data.format].write(formatContext);
        } finally {
          order.read();
        }
        await pause();
        for (const [name, { postId, file }] of attachments) {
          const content = await openStored(services, postId, file, warn);
          if (!content) continue;
          await zip.add(name, content);
          counts.attachments++;
        }
        counts.warnings = warnings.length;
        if (warnings.length) await zip.add('warning.txt', warnings.map((w) => `Warning: ${w}\n`).join(''));
        const files = [...zip.entries];
        const manifest = buildManifest({
          generator: `Custodian ${version}`, node: config.nodeId, jobId: job.id, batch: seq, format: data.format, incremental: data.incremental,
          cursor: { from: state.cursor, to }, timeRange: { start: state.cursor.updateAt, end: to.updateAt }, jobEndTime: state.endTime,
          counts, files, signerFingerprint: key.fingerprint,
        });
        await zip.add('manifest.json', manifest);
        await zip.add('manifest.json.p7s', signDetached(manifest, key));
        const result = await zip.finish();
        return {
          to, key: batchKey(job.id, job.create_at, seq, state.cursor, to), ...result,
          manifestSha256: crypto.createHash('sha256').update(manifest).digest('hex'), counts,
          emlEntries: data.format === 'globalrelay' ? files.filter((f) => f.name.endsWith('.eml')).map((f) => f.name) : [],
        };
      } catch (err) {
        zip.abort();
        throw err;
      }
    });
    await pause();
    // The store and the mail see batches in order: nothing of this one before the last one committed,
    // and nothing once the job was told to stop while this one was written beside it.
    await order.previousCommitted;
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
  const { db, config, logger } = services;
  const data = job.data as unknown as ExportJobData;
  const storage = ExportStorage.for(config);
  const key = await exportKey(services);
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
  // Batches are read and rendered by PostgreSQL, most of an export's CPU: on connections of their own
  // whose local backends run at the lowest priority, so live requests keep their latency. Two, so
  // that PostgreSQL sorts and renders the next batch while this process compresses, hashes, fsyncs
  // and commits the current one: done one after the other, each side waited for the other.
  const readers = [openPurgeConnection(db, logger, 'custodian-export'), openPurgeConnection(db, logger, 'custodian-export')];
  try {
    return await exportFrom(ctx, readers.map((r) => r.db), state, data, storage, key);
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
}

/**
 * How a batch waits for the one before it: it reads its document's rows once that one has read its
 * own (PostgreSQL sorts and renders this one meanwhile, and only one document at a time streams
 * through this process's memory), and moves into the store once that one has committed.
 */
interface BatchOrder {
  previousRead: Promise<void>;
  previousCommitted: Promise<void>;
  /** Called once this batch's document has been read (or failed to be). */
  read(): void;
}

interface RunningBatch {
  seq: number;
  to: ExportCursor;
  written: Promise<WrittenBatch>;
  /** Resolved once the document rows are read: the next batch's turn to read its own. */
  read: Promise<void>;
  /** Settled once the batch has committed (or failed to): the next batch waits for it before its zip goes into the store. */
  committed: PromiseWithResolvers<void>;
}

/** Plans the batch after `state.cursor` (where it ends) and starts writing it on the reader of its turn, after `previous`. */
async function startBatch(ctx: JobContext, readers: Knex[], state: ExportState, seq: number, previous: RunningBatch | undefined, data: ExportJobData, storage: ExportStorage, key: ExportKey): Promise<RunningBatch> {
  const { db, config } = ctx.services;
  const { to } = await nextBoundary(db, state.cursor, state.endTime, config.exportBatchSize);
  const committed = Promise.withResolvers<void>();
  committed.promise.catch(() => undefined);
  const read = Promise.withResolvers<void>();
  const order: BatchOrder = { previousRead: previous?.read ?? Promise.resolve(), previousCommitted: previous?.committed.promise ?? Promise.resolve(), read: () => read.resolve() };
  const written = writeBatch(ctx, readers[seq % readers.length], state, seq, to, order, data, storage, key);
  // However it ends, the next batch's turn to read comes (it stops at the commit gate if this one failed).
  void written.then(() => read.resolve(), () => read.resolve());
  return { seq, to, written, read: read.promise, committed };
}

async function exportFrom(ctx: JobContext, readers: Knex[], initial: ExportState, data: ExportJobData, storage: ExportStorage, key: ExportKey): Promise<JobOutcome> {
  let running = await startBatch(ctx, readers, initial, initial.seq + 1, undefined, data, storage, key);
  let state = initial;
  while (true) {
    let next: RunningBatch | undefined;
    try {
      ctx.throwIfStopped();
      // Batches commit in order, one at a time; the next one is already being written beside this one.
      if (running.to.postId !== null) next = await startBatch(ctx, readers, { ...state, cursor: running.to }, running.seq + 1, running, data, storage, key);
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
