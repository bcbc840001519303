import type { SequenceState, TableDump } from './database.ts';

/**
 * The backup archive (docs/decisions/0005-backup-format.md): a gzip-compressed tar holding
 *   db/<table>.jsonl      one JSON array of column texts per row, tables in foreign-key order
 *   data/<folder>/...     the data directory's own files (files/, keys/, exports/, ...)
 *   manifest.json         last: what the backup holds, with the SHA-256 and size of every other entry
 * and, beside the archive, `<archive>.sha256` in sha256sum format.
 */
export const BACKUP_FORMAT = 'custodian-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';

/**
 * Data-directory entries that are not backed up: the PostgreSQL cluster (its content is in db/), its
 * socket folder and logs, the lock, and the cluster's role passwords (a restored cluster gets new ones).
 */
export function isExcludedDataPath(relative: string): boolean {
  const [top, second] = relative.split('/');
  if (['postgres', 'run', 'logs', 'custodian.lock'].includes(top)) return true;
  if (top.startsWith('postgres.init-') || top.startsWith('.write-test-') || top.startsWith('.restore-')) return true;
  if (top === 'secrets' && second !== undefined && /^db-.*password$/.test(second)) return true;
  return false;
}

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  custodianVersion: string;
  createdAt: string;
  nodeId: string;
  /** Where the database was: the embedded cluster or DATABASE_URL. */
  source: 'embedded' | 'external';
  database: {
    serverVersion: string;
    migrations: string[];
    tables: (TableDump & { entry: string })[];
    sequences: SequenceState[];
  };
  /** Files referenced by file_infos rows that were already gone from the store when it was copied. */
  missingFiles: string[];
  entries: ManifestEntry[];
}
