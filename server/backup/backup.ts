import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Knex } from 'knex';
import { TarWriter } from '../lib/tar.ts';
import { dumpDatabase, type TableDump } from './database.ts';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, MANIFEST_ENTRY, isExcludedDataPath, type BackupManifest, type ManifestEntry } from './format.ts';

export interface BackupOptions {
  db: Knex;
  dataDir: string;
  out: string;
  custodianVersion: string;
  nodeId: string;
  source: 'embedded' | 'external';
  /** Progress lines for the operator. */
  log?: (line: string) => void;
}

export interface BackupResult {
  file: string;
  sha256: string;
  bytes: number;
  manifest: BackupManifest;
}

async function* hashing(source: AsyncIterable<Uint8Array>, hash: crypto.Hash): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/** Regular files under the data directory that belong in a backup, as sorted relative paths. */
function dataFiles(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (isExcludedDataPath(relative)) continue;
      // Half-written uploads are temporary files beside their final name, and exports are assembled
      // in a .tmp folder: neither is part of any snapshot.
      if (entry.name === '.tmp' || (entry.name.startsWith('.') && entry.name.endsWith('.tmp'))) continue;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else if (entry.isFile()) out.push(relative);
    }
  };
  walk(dataDir, '');
  return out.sort();
}

/**
 * Writes a consistent backup of one Custodian installation to `out` (a .tar.gz): the database from a
 * single snapshot, then the data directory's files, then a manifest with every entry's SHA-256. The
 * archive is written under a temporary name and renamed when complete, and `<out>.sha256` is written
 * beside it.
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const log = options.log ?? (() => undefined);
  const out = path.resolve(options.out);
  const partial = `${out}.partial-${process.pid}`;
  const scratch = `${out}.tmp-${process.pid}`;
  await fsp.mkdir(path.dirname(out), { recursive: true });
  await fsp.mkdir(scratch, { recursive: true, mode: 0o700 });
  const archiveHash = crypto.createHash('sha256');
  let archiveBytes = 0;
  const gzip = zlib.createGzip({ level: 6 });
  const tarStream = new PassThrough();
  const counting = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      archiveHash.update(chunk);
      archiveBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const written = pipeline(tarStream, gzip, counting, fs.createWriteStream(partial, { mode: 0o600, flush: true }));
  written.catch(() => undefined);
  const tar = new TarWriter(tarStream);
  const entries: ManifestEntry[] = [];
  const addFile = async (entryPath: string, file: string, mode = 0o600) => {
    const stat = await fsp.stat(file);
    const hash = crypto.createHash('sha256');
    // The bytes up to the size seen now: a file appended to meanwhile (a log, a stream) is taken as it was.
    const content = stat.size ? hashing(fs.createReadStream(file, { start: 0, end: stat.size - 1 }), hash) : Buffer.alloc(0);
    await tar.file(entryPath, stat.size, content, mode, stat.mtimeMs / 1000);
    entries.push({ path: entryPath, size: stat.size, sha256: hash.digest('hex') });
  };
  try {
    // 0. The audit folder first (its checkpoint file above all), before the database snapshot, as
    //    `custodian audit verify` reads it: a checkpoint written meanwhile must not cover records
    //    the snapshot lacks, which would look like a truncated chain after a restore.
    const early = new Map<string, { copy: string; mode: number }>();
    for (const relative of dataFiles(options.dataDir).filter((f) => f.startsWith('audit/'))) {
      const copy = path.join(scratch, 'early', `${early.size}`);
      await fsp.mkdir(path.dirname(copy), { recursive: true });
      const stat = await fsp.stat(path.join(options.dataDir, relative));
      if (stat.size) await pipeline(fs.createReadStream(path.join(options.dataDir, relative), { start: 0, end: stat.size - 1 }), fs.createWriteStream(copy, { mode: 0o600 }));
      else await fsp.writeFile(copy, '');
      early.set(relative, { copy, mode: stat.mode & 0o777 });
    }

    // 1. The database, from one snapshot: each table to a scratch file first (tar needs sizes up front).
    const started = Date.now();
    const tableFiles: { dump: Omit<TableDump, 'rows'>; file: string }[] = [];
    const referencedFiles: string[] = [];
    let current: { handle: fsp.FileHandle; dump: Omit<TableDump, 'rows'>; pathColumn: number; buffer: string[] } | undefined;
    const flush = async () => {
      if (current && current.buffer.length) {
        await current.handle.write(current.buffer.join(''));
        current.buffer = [];
      }
    };
    const dump = await dumpDatabase(options.db, {
      async table(table) {
        const file = path.join(scratch, `${tableFiles.length}.jsonl`);
        tableFiles.push({ dump: table, file });
        current = { handle: await fsp.open(file, 'w', 0o600), dump: table, pathColumn: table.name === 'file_infos' ? table.columns.indexOf('path') : -1, buffer: [] };
      },
      async row(line) {
        const c = current!;
        c.buffer.push(line + '\n');
        if (c.pathColumn >= 0) referencedFiles.push((JSON.parse(line) as (string | null)[])[c.pathColumn] ?? '');
        if (c.buffer.length >= 1000) await flush();
      },
      async end() {
        await flush();
        await current!.handle.close();
        current = undefined;
      },
    });
    const totalRows = dump.tables.reduce((n, t) => n + t.rows, 0);
    log(`database: ${dump.tables.length} tables, ${totalRows} rows, ${dump.migrations.length} migrations (${Date.now() - started} ms)`);
    const tables: BackupManifest['database']['tables'] = [];
    for (const [i, { file }] of tableFiles.entries()) {
      const entry = `db/${dump.tables[i].name}.jsonl`;
      await addFile(entry, file);
      tables.push({ ...dump.tables[i], entry });
    }

    // 2. The data directory's files. Stored files are written once under new names and never
    //    changed, so a copy taken after the snapshot holds every file the snapshot references unless
    //    one was deleted meanwhile; those are listed in the manifest.
    const files = [...new Set([...dataFiles(options.dataDir).filter((f) => !f.startsWith('audit/')), ...early.keys()])].sort();
    let fileBytes = 0;
    for (const relative of files) {
      const full = path.join(options.dataDir, relative);
      let mode: number;
      try {
        const copied = early.get(relative);
        mode = copied?.mode ?? (await fsp.stat(full)).mode & 0o777;
        await addFile(`data/${relative}`, copied?.copy ?? full, mode);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed since the listing
        throw err;
      }
      fileBytes += entries.at(-1)!.size;
    }
    const stored = new Set(entries.map((e) => e.path));
    const missingFiles = referencedFiles.filter((key) => key && !stored.has(`data/files/${key}`));
    log(`data directory: ${files.length} files, ${(fileBytes / 1048576).toFixed(1)} MiB${missingFiles.length ? `; ${missingFiles.length} referenced file(s) missing from the store` : ''}`);

    // 3. The manifest, last, so it can list every entry's checksum.
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      custodianVersion: options.custodianVersion,
      createdAt: new Date().toISOString(),
      nodeId: options.nodeId,
      source: options.source,
      database: { serverVersion: dump.serverVersion, migrations: dump.migrations, tables, sequences: dump.sequences },
      missingFiles,
      entries,
    };
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    await tar.file(MANIFEST_ENTRY, Buffer.byteLength(manifestText), manifestText, 0o600);
    await tar.finish();
    tarStream.end();
    await written;
    const sha256 = archiveHash.digest('hex');
    await fsp.rename(partial, out);
    await fsp.writeFile(`${out}.sha256`, `${sha256}  ${path.basename(out)}\n`);
    return { file: out, sha256, bytes: archiveBytes, manifest };
  } catch (err) {
    tarStream.destroy();
    await written.catch(() => undefined);
    await fsp.rm(partial, { force: true });
    throw err;
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
