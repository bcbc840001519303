import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { Knex } from 'knex';
import { readTar, type TarEntry } from '../lib/tar.ts';
import { DatabaseLoader } from './database.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MANIFEST_ENTRY, isExcludedDataPath, type BackupManifest } from './format.ts';

/** The archive is damaged, incomplete, or not a Custodian backup; nothing was changed. */
export class BackupInvalidError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file} is not a valid Custodian backup:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export interface VerifiedBackup {
  manifest: BackupManifest;
  archiveSha256: string;
  /** True when `<file>.sha256` was found and matched. */
  sidecarChecked: boolean;
  entries: number;
  bytes: number;
}

/** Streams the gzip-compressed tar's entries to `onEntry`; also returns the SHA-256 of the raw file. */
async function readArchive(file: string, onEntry: (entry: TarEntry) => Promise<void>): Promise<string> {
  const raw = crypto.createHash('sha256');
  const source = fs.createReadStream(file);
  source.on('data', (chunk) => raw.update(chunk));
  const gunzip = zlib.createGunzip();
  const piping = pipeline(source, gunzip);
  piping.catch(() => undefined);
  for await (const entry of readTar(gunzip)) await onEntry(entry);
  // Read the rest (tar padding after the end marker) so the whole file is hashed and gzip checked.
  gunzip.resume();
  await piping;
  return raw.digest('hex');
}

/**
 * Reads the whole archive once and checks it against its manifest: every entry's SHA-256 and size,
 * nothing missing, nothing extra, and the archive's own checksum file when it is beside it.
 */
export async function verifyBackup(file: string): Promise<VerifiedBackup> {
  const problems: string[] = [];
  const seen = new Map<string, { sha256: string; size: number }>();
  let manifestText: string | undefined;
  let bytes = 0;
  let archiveSha256: string;
  try {
    archiveSha256 = await readArchive(file, async (entry) => {
      if (entry.type !== 'file') return;
      const hash = crypto.createHash('sha256');
      const chunks: Buffer[] = [];
      for await (const chunk of entry.content()) {
        hash.update(chunk);
        if (entry.path === MANIFEST_ENTRY) chunks.push(chunk);
      }
      bytes += entry.size;
      if (entry.path === MANIFEST_ENTRY) manifestText = Buffer.concat(chunks).toString('utf8');
      else if (seen.has(entry.path)) problems.push(`${entry.path} appears twice`);
      else seen.set(entry.path, { sha256: hash.digest('hex'), size: entry.size });
    });
  } catch (err) {
    throw new BackupInvalidError(file, [(err as Error).message]);
  }
  if (!manifestText) throw new BackupInvalidError(file, [`${MANIFEST_ENTRY} is missing: the backup is incomplete`]);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(manifestText) as BackupManifest;
  } catch {
    throw new BackupInvalidError(file, [`${MANIFEST_ENTRY} is not JSON`]);
  }
  if (manifest.format !== BACKUP_FORMAT) throw new BackupInvalidError(file, [`not a ${BACKUP_FORMAT} archive`]);
  if (manifest.formatVersion > BACKUP_FORMAT_VERSION) {
    throw new BackupInvalidError(file, [`backup format ${manifest.formatVersion} is newer than this Custodian understands (${BACKUP_FORMAT_VERSION}); restore it with Custodian ${manifest.custodianVersion} or later`]);
  }
  for (const expected of manifest.entries) {
    const found = seen.get(expected.path);
    if (!found) problems.push(`${expected.path} is missing`);
    else if (found.sha256 !== expected.sha256 || found.size !== expected.size) problems.push(`${expected.path} does not match its checksum`);
    seen.delete(expected.path);
  }
  for (const extra of seen.keys()) problems.push(`${extra} is not listed in the manifest`);
  let sidecarChecked = false;
  const sidecar = `${file}.sha256`;
  if (fs.existsSync(sidecar)) {
    const expected = fs.readFileSync(sidecar, 'utf8').split(/\s+/)[0];
    if (expected !== archiveSha256) problems.push(`the archive's SHA-256 does not match ${path.basename(sidecar)}`);
    sidecarChecked = true;
  }
  if (problems.length) throw new BackupInvalidError(file, problems);
  return { manifest, archiveSha256, sidecarChecked, entries: manifest.entries.length + 1, bytes };
}

async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  // The decoder keeps a multi-byte character split across two chunks whole.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const parts = (rest + decoder.write(chunk)).split('\n');
    rest = parts.pop()!;
    for (const line of parts) if (line) yield line;
  }
  rest += decoder.end();
  if (rest) yield rest;
}

export interface RestoreOptions {
  file: string;
  verified: VerifiedBackup;
  dataDir: string;
  /** Owner connection to an empty database with exactly the backup's migrations applied. */
  db: Knex;
  log?: (line: string) => void;
}

/**
 * Restores a verified backup: the data directory's files, then every table in one transaction. The
 * caller prepares the database (see `custodian restore`) and migrates it further afterwards.
 */
export async function restoreBackup(options: RestoreOptions): Promise<{ rows: number; files: number }> {
  const { manifest } = options.verified;
  const log = options.log ?? (() => undefined);
  const tables = new Map(manifest.database.tables.map((t) => [t.entry, t]));
  const expected = new Map(manifest.entries.map((e) => [e.path, e]));
  let rows = 0;
  let files = 0;
  await options.db.transaction(async (trx) => {
    const loader = new DatabaseLoader(trx);
    await loader.begin(manifest.database.tables.map((t) => t.name));
    await readArchive(options.file, async (entry) => {
      if (entry.type !== 'file' || entry.path === MANIFEST_ENTRY) return;
      const listed = expected.get(entry.path);
      if (!listed) throw new Error(`${entry.path} changed since the archive was verified`);
      const hash = crypto.createHash('sha256');
      const hashed = (async function* () {
        for await (const chunk of entry.content()) {
          hash.update(chunk);
          yield chunk;
        }
      })();
      if (entry.path.startsWith('db/')) {
        const table = tables.get(entry.path);
        if (!table) throw new Error(`${entry.path} is not a table of the manifest`);
        const loaded = await loader.table(table, lines(hashed));
        if (loaded !== table.rows) throw new Error(`${table.name}: ${loaded} rows loaded, the backup has ${table.rows}`);
        rows += loaded;
      } else if (entry.path.startsWith('data/')) {
        const relative = entry.path.slice('data/'.length);
        if (!relative || isExcludedDataPath(relative)) throw new Error(`refusing to restore ${entry.path}`);
        const target = path.join(options.dataDir, relative);
        const secret = /^(keys|secrets)\//.test(relative);
        await fsp.mkdir(path.dirname(target), { recursive: true, mode: secret ? 0o700 : 0o750 });
        const temp = `${target}.restore-${process.pid}.tmp`;
        await pipeline(hashed, fs.createWriteStream(temp, { mode: entry.mode & 0o777 || 0o600, flags: 'wx' }));
        await fsp.rename(temp, target);
        files++;
      } else {
        throw new Error(`unexpected entry ${entry.path}`);
      }
      if (hash.digest('hex') !== listed.sha256) throw new Error(`${entry.path} changed since the archive was verified`);
    });
    await loader.finish(manifest.database.sequences);
  });
  log(`restored ${rows} rows in ${manifest.database.tables.length} tables and ${files} files`);
  return { rows, files };
}
