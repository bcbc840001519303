import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Config } from '../../server/config/schema.ts';
import type { FileStore } from '../../server/files/storage.ts';
import { NotFoundError } from '../../server/lib/errors.ts';
import { version } from '../../server/lib/version.ts';
import type { ExportKey } from '../custody/keys.ts';
import { buildManifest } from '../custody/manifest.ts';
import { signDetached } from '../custody/signature.ts';
import { actianceFormat } from './formats/actiance.ts';
import { csvFormat } from './formats/csv.ts';
import { globalRelayFormat } from './formats/eml.ts';
import { emptyCounts, type BatchCounts, type ExportFormat, type ExportFormatName, type FormatContext } from './formats/format.ts';
import { jsonlFormat } from './formats/jsonl.ts';
import type { ExportCursor, ExportFile } from './records.ts';
import { BatchSource } from './source.ts';
import { ZipWriter } from './zip.ts';

const formats: Record<ExportFormatName, ExportFormat> = { actiance: actianceFormat, csv: csvFormat, globalrelay: globalRelayFormat, jsonl: jsonlFormat };

/** One batch to render into a temporary zip: plain data, so it crosses to the export worker thread as it is. */
export interface BatchRequest {
  jobId: string;
  seq: number;
  format: ExportFormatName;
  incremental: boolean;
  /** The batch's range: `from` (exclusive) to `to`. */
  from: ExportCursor;
  to: ExportCursor;
  /** Where the job started (a post deleted after it is also exported as created). */
  jobStartTime: number;
  /** The job's fixed end time: the export's "as of" date. */
  jobEndTime: number;
  tempFile: string;
  tempDir: string;
}

/** The rendered zip, not yet in the store. */
export interface RenderedBatch {
  size: number;
  sha256: string;
  crc32: number;
  manifestSha256: string;
  counts: BatchCounts;
  /** The Global Relay mails in the zip (for SMTP delivery). */
  emlEntries: string[];
}

/** What rendering a batch reads with. */
export interface RenderEnvironment {
  config: Config;
  files: FileStore;
  key: ExportKey;
  /** Waits `exportStepDelayMs` (tests stop a job mid-batch with it). */
  pause(): Promise<void>;
}

async function openStored(files: FileStore, postId: string, file: ExportFile, warn: (text: string) => void): Promise<Readable | undefined> {
  try {
    return await files.open(file.path);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    warn(`file ${file.id} (${file.name}) of post ${postId} is missing from the file store`);
    return undefined;
  }
}

/**
 * Renders one batch in one REPEATABLE READ snapshot on `db`: streams the format's documents and the
 * attachments into `request.tempFile`, then adds manifest.json (every file's SHA-256) and its
 * detached signature. `turn` settles when the batch before it has read its documents (only one
 * document at a time streams through memory); `read` is called once this one has.
 */
export async function renderBatch(env: RenderEnvironment, db: Knex, request: BatchRequest, turn: Promise<void>, read: () => void): Promise<RenderedBatch> {
  const { config, files, key } = env;
  const { from, to, seq } = request;
  return db.transaction(async (trx) => {
    await trx.raw('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // Every cursor is read to the end: plan for all rows (hash joins, one sort), not the first few.
    await trx.raw('SET LOCAL cursor_tuple_fraction = 1.0');
    // A rendered batch document is sorted whole (tens of MiB when every channel lists 50 members):
    // in memory, not through temporary files.
    await trx.raw("SET LOCAL work_mem = '64MB'");
    const source = new BatchSource(trx, { from, to, startTime: from.updateAt, endTime: to.updateAt, jobStartTime: request.jobStartTime }, turn);
    // Deflated on this (the export worker's, lower-priority) thread rather than on libuv's pool.
    const zip = new ZipWriter(request.tempFile, { date: new Date(request.jobEndTime), compressInline: true });
    const counts = emptyCounts();
    const warnings: string[] = [];
    const attachments = new Map<string, { postId: string; file: ExportFile }>();
    const warn = (text: string) => warnings.push(text);
    const formatContext: FormatContext = {
      source, zip, counts, exportTime: request.jobEndTime, jobId: request.jobId, batchSeq: seq, tempDir: request.tempDir, warn,
      attach(postId, file) {
        const name = `files/${postId}/${file.id}-${file.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'file'}`;
        attachments.set(name, { postId, file });
        return name;
      },
      openFile: (message, file) => openStored(files, message.postId, file, warn),
    };
    try {
      try {
        await formats[request.format].write(formatContext);
      } finally {
        read();
      }
      await env.pause();
      for (const [name, { postId, file }] of attachments) {
        const content = await openStored(files, postId, file, warn);
        if (!content) continue;
        await zip.add(name, content);
        counts.attachments++;
      }
      counts.warnings = warnings.length;
      if (warnings.length) await zip.add('warning.txt', warnings.map((w) => `Warning: ${w}\n`).join(''));
      const entries = [...zip.entries];
      const manifest = buildManifest({
        generator: `Custodian ${version}`, node: config.nodeId, jobId: request.jobId, batch: seq, format: request.format, incremental: request.incremental,
        cursor: { from, to }, timeRange: { start: from.updateAt, end: to.updateAt }, jobEndTime: request.jobEndTime,
        counts, files: entries, signerFingerprint: key.fingerprint,
      });
      await zip.add('manifest.json', manifest);
      await zip.add('manifest.json.p7s', signDetached(manifest, key));
      const written = await zip.finish();
      return {
        ...written, manifestSha256: crypto.createHash('sha256').update(manifest).digest('hex'), counts,
        emlEntries: request.format === 'globalrelay' ? entries.filter((f) => f.name.endsWith('.eml')).map((f) => f.name) : [],
      };
    } catch (err) {
      zip.abort();
      throw err;
    }
  });
}
