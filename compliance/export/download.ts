import path from 'node:path';
import type { JobDownload, JobRow } from '../../retention-jobs/index.ts';
import type { Actor } from '../../server/auth/actor.ts';
import type { Services } from '../../server/services.ts';
import { recordComplianceAudit, recordComplianceFailure } from '../audit.ts';
import type { AppError } from '../../server/lib/errors.ts';
import { StoredZipBundle } from './bundle.ts';
import { ExportStorage } from './storage.ts';

interface BatchRow {
  seq: number;
  file_key: string;
  size: number;
  sha256: string;
  crc32: number;
  create_at: number;
}

/**
 * The download of an export job: its only batch zip as is, or, with several batches, one zip that
 * stores them all (laid out on the fly, so byte ranges work and nothing is copied). The download is
 * audited before any byte is sent.
 */
export async function exportDownload(services: Services, job: JobRow, actor: Actor): Promise<JobDownload | undefined> {
  const batches = (await services.db('compliance_export_batches').where({ job_id: job.id }).orderBy('seq')) as BatchRow[];
  if (batches.length === 0) return undefined;
  const storage = ExportStorage.for(services.config);
  await services.db.transaction((trx) =>
    recordComplianceAudit(trx, {
      action: 'export_downloaded', actorId: actor.userId, ipAddress: actor.ipAddress, jobId: job.id, apiPath: `/api/v4/jobs/${job.id}/download`, nodeId: services.config.nodeId,
      details: { batches: batches.map((b) => ({ seq: b.seq, key: b.file_key, sha256: b.sha256 })) },
    }),
  );
  const folder = path.dirname(batches[0].file_key);
  if (batches.length === 1) {
    const b = batches[0];
    return { name: path.basename(b.file_key), size: Number(b.size), contentType: 'application/zip', etag: `"${b.sha256}"`, open: (range) => storage.open(b.file_key, range) };
  }
  const bundle = new StoredZipBundle(
    batches.map((b) => ({ name: path.basename(b.file_key), size: Number(b.size), crc32: Number(b.crc32), modifiedAt: Number(b.create_at), open: (range) => storage.open(b.file_key, range) })),
  );
  const etag = `"${batches.map((b) => b.sha256.slice(0, 16)).join('')}"`.slice(0, 130);
  return { name: `${folder}.zip`, size: bundle.size, contentType: 'application/zip', etag, open: async (range) => bundle.open(range) };
}

/** A refused download of an export job (not allowed, nothing to download yet): audited with who tried. */
export async function exportDownloadRefused(services: Services, job: JobRow, actor: Actor, err: AppError): Promise<void> {
  await recordComplianceFailure(services, {
    action: 'export_downloaded', actorId: actor.userId, ipAddress: actor.ipAddress, jobId: job.id, apiPath: `/api/v4/jobs/${job.id}/download`, nodeId: services.config.nodeId, details: {},
  }, err);
}
