// Verifies a finished export job's zips on the server, as `custodian export verify` does offline:
// the manifest's CMS signature and every file against the manifest. The console shows the result
// next to the download, so an officer sees the chain of custody holds before handing the zip over.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { getJob, type JobTypes } from '../../retention-jobs/index.ts';
import type { Actor } from '../../server/auth/actor.ts';
import { InvalidInputError, NotFoundError } from '../../server/lib/errors.ts';
import type { Services } from '../../server/services.ts';
import { verifyExportZip } from '../custody/verify.ts';
import { exportKey } from '../export/runner.ts';
import { ExportStorage } from '../export/storage.ts';

export interface ZipVerification {
  file: string;
  ok: boolean;
  problems: string[];
  files_checked: number;
  signer_subject: string;
  signer_fingerprint: string;
  signing_time: number;
  /** Signed with the export certificate this server uses now (false after a key rotation, too). */
  signed_by_this_server: boolean;
}

export interface JobVerification {
  job_id: string;
  ok: boolean;
  verified_at: number;
  zips: ZipVerification[];
}

/** Job types whose results carry a signed manifest, and where their zips are. */
async function zipKeys(services: Services, job: { id: string; type: string; data: Record<string, unknown> }): Promise<{ key: string; sha256?: string }[]> {
  if (job.type === 'message_export') {
    const rows = (await services.db('compliance_export_batches').where({ job_id: job.id }).orderBy('seq').select('file_key', 'sha256')) as { file_key: string; sha256: string | null }[];
    return rows.map((r) => ({ key: r.file_key, sha256: r.sha256 ?? undefined }));
  }
  if (job.type === 'ediscovery_export') return typeof job.data.file_key === 'string' ? [{ key: job.data.file_key }] : [];
  throw new InvalidInputError('api.job.verify.not_signed.app_error', 'Only compliance exports and eDiscovery case exports carry a signed manifest.');
}

/** Verifies every zip of the job the actor may read; nothing is changed. */
export async function verifyJobExport(services: Services, types: JobTypes, actor: Actor, jobId: string): Promise<JobVerification> {
  const job = await getJob(services.db, types, actor, jobId);
  const keys = await zipKeys(services, job);
  if (keys.length === 0) throw new NotFoundError('api.job.verify.no_file.app_error', 'This job has no export to verify (yet).');
  const storage = new ExportStorage(services.config.dataDir);
  const current = (await exportKey(services)).fingerprint;
  const zips: ZipVerification[] = [];
  for (const { key, sha256 } of keys) {
    const file = path.join(storage.root, key);
    const report = await verifyExportZip(file);
    // The zip as a whole must also be the one recorded when it was written: this catches changes to
    // bytes zip readers skip (headers, data descriptors, padding) as well.
    const problems = [...report.problems];
    if (sha256 && (await sha256File(file).catch(() => '')) !== sha256) problems.push(`the zip's SHA-256 is not the ${sha256.slice(0, 16)}… recorded when it was written`);
    zips.push({
      file: path.basename(key), ok: report.ok && problems.length === report.problems.length, problems, files_checked: report.filesChecked,
      signer_subject: report.signer?.subject ?? '', signer_fingerprint: report.signer?.fingerprint ?? '',
      signing_time: report.signer?.signingTime?.getTime() ?? 0, signed_by_this_server: !!report.signer?.fingerprint && report.signer.fingerprint === current,
    });
  }
  return { job_id: job.id, ok: zips.every((z) => z.ok), verified_at: Date.now(), zips };
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex')));
  });
}
