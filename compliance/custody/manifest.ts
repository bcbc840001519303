import type { BatchCounts } from '../export/formats/format.ts';
import type { ExportCursor } from '../export/records.ts';
import type { ZipEntryRecord } from '../export/zip.ts';

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.json.p7s';

/** manifest.json: what a batch zip holds and where it sits in the job, with the SHA-256 of every file. */
export interface Manifest {
  manifest_version: 1;
  generator: string;
  node: string;
  job_id: string;
  batch: number;
  format: string;
  incremental: boolean;
  cursor: { from: { update_at: number; post_id: string | null }; to: { update_at: number; post_id: string | null } };
  time_range: { start: number; end: number };
  job_end_time: number;
  counts: BatchCounts;
  files: ZipEntryRecord[];
  signer_sha256: string;
}

const cursorJson = (c: ExportCursor) => ({ update_at: c.updateAt, post_id: c.postId });

/** The manifest's exact bytes (these are what the signature covers). Files are listed by name. */
export function buildManifest(props: {
  generator: string;
  node: string;
  jobId: string;
  batch: number;
  format: string;
  incremental: boolean;
  cursor: { from: ExportCursor; to: ExportCursor };
  timeRange: { start: number; end: number };
  jobEndTime: number;
  counts: BatchCounts;
  files: ZipEntryRecord[];
  signerFingerprint: string;
}): Buffer {
  const manifest: Manifest = {
    manifest_version: 1, generator: props.generator, node: props.node, job_id: props.jobId, batch: props.batch, format: props.format,
    incremental: props.incremental, cursor: { from: cursorJson(props.cursor.from), to: cursorJson(props.cursor.to) },
    time_range: props.timeRange, job_end_time: props.jobEndTime, counts: props.counts,
    files: [...props.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), signer_sha256: props.signerFingerprint,
  };
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
}
