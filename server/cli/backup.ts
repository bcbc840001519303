import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { recordAudit, sealAll, type AuditRecord } from '../../audit/index.ts';
import { createBackup } from '../backup/backup.ts';
import { databaseIsEmpty } from '../backup/database.ts';
import { restoreBackup, verifyBackup } from '../backup/restore.ts';
import type { Config } from '../config/schema.ts';
import { createKnex, type Knex } from '../db/connection.ts';
import { DataDirLock } from '../db/datadir-lock.ts';
import { EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { availableMigrations, migrateLatest, migrateUp, migrationStatus } from '../db/migrate.ts';
import { ensureDir } from '../lib/fs.ts';
import type { Logger } from '../lib/logger.ts';
import { version } from '../lib/version.ts';
import { withOwnerDatabase } from './database.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** Backups and restores are audited: who ran them from which machine, and what they produced. */
async function audit(db: Knex, config: Config, command: 'backup' | 'restore', record: Pick<AuditRecord, 'event_name' | 'status' | 'event' | 'error'>): Promise<void> {
  let who = 'unknown';
  try {
    who = os.userInfo().username;
  } catch {
    // no passwd entry
  }
  await recordAudit(db, {
    ...record,
    actor: { user_id: '', session_id: '', ip_address: '', user_agent: `custodian-cli (${who}@${os.hostname()})` },
    meta: { api_path: `cli:${command}`, node_id: config.nodeId },
  });
  await sealAll(db);
}

/** `custodian backup --out <file>`: works while the server runs (online, one consistent snapshot). */
export async function backupCommand(args: string[], config: Config, logger: Logger, usage: (message: string) => Error): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (!values.out) throw usage('backup needs --out <file>, for example --out /var/backups/custodian-$(date +%F).tar.gz');
  const file = path.resolve(values.out);
  if (fs.existsSync(file)) throw usage(`${file} already exists; backups are never overwritten`);
  const started = Date.now();
  const result = await withOwnerDatabase(
    config,
    logger,
    async (db) => {
      try {
        const written = await createBackup({ db, dataDir: config.dataDir, out: file, custodianVersion: version, nodeId: config.nodeId, source: config.databaseUrl ? 'external' : 'embedded', log: (l) => out(`  ${l}`) });
        const rows = written.manifest.database.tables.reduce((n, t) => n + t.rows, 0);
        await audit(db, config, 'backup', {
          event_name: 'create_backup', status: 'success',
          event: { object_type: 'backup', parameters: { out: file }, resulting_state: { sha256: written.sha256, bytes: written.bytes, rows, entries: written.manifest.entries.length, missing_files: written.manifest.missingFiles.length } },
        });
        return written;
      } catch (err) {
        await audit(db, config, 'backup', { event_name: 'create_backup', status: 'fail', event: { object_type: 'backup', parameters: { out: file } }, error: { description: (err as Error).message } }).catch(() => undefined);
        throw err;
      }
    },
    { migrate: false },
  );
  out(`Backup written: ${result.file} (${mib(result.bytes)}, ${result.manifest.entries.length + 1} entries, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  out(`SHA-256 ${result.sha256} (also in ${path.basename(result.file)}.sha256)`);
  if (result.manifest.missingFiles.length) out(`Warning: ${result.manifest.missingFiles.length} file(s) referenced by the database were deleted while the backup ran; see missingFiles in the manifest.`);
}

/** Top-level entries of a data directory that mean it is in use (anything but what a first start makes). */
function dataDirInUse(dataDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dataDir);
  } catch {
    return [];
  }
  const harmless = new Set(['logs', 'run', 'custodian.lock']);
  return entries.filter((e) => !harmless.has(e) && !(fs.statSync(path.join(dataDir, e)).isDirectory() && fs.readdirSync(path.join(dataDir, e)).length === 0));
}

/**
 * `custodian restore --from <file> [--verify-only]`: checks every checksum first, then restores into
 * a fresh data directory (embedded) or an empty database (DATABASE_URL), replaying the backup's
 * migrations, loading the data, then migrating to this version.
 */
export async function restoreCommand(args: string[], config: Config, logger: Logger, usage: (message: string) => Error): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, 'verify-only': { type: 'boolean' } } });
  if (!values.from) throw usage('restore needs --from <file>');
  const file = path.resolve(values.from);
  if (!fs.existsSync(file)) throw usage(`${file} does not exist`);
  const verified = await verifyBackup(file);
  const { manifest } = verified;
  out(`Verified ${file}: ${verified.entries} entries, ${mib(verified.bytes)}, every SHA-256 matches${verified.sidecarChecked ? ', and so does the archive checksum' : ''}.`);
  out(`  taken ${manifest.createdAt} by Custodian ${manifest.custodianVersion} on ${manifest.nodeId} (${manifest.source} database, PostgreSQL ${manifest.database.serverVersion})`);
  if (values['verify-only']) return;

  const known = new Set(await availableMigrations());
  const unknown = manifest.database.migrations.filter((m) => !known.has(m));
  if (unknown.length) throw new Error(`the backup comes from a newer Custodian (migrations ${unknown.join(', ')} are unknown to ${version}); restore it with Custodian ${manifest.custodianVersion} or later`);

  ensureDir(config.dataDir);
  const lock = new DataDirLock(config.dataDir);
  lock.acquire();
  const inUse = dataDirInUse(config.dataDir);
  const existedBefore = new Set(fs.readdirSync(config.dataDir));
  let embedded: EmbeddedPostgres | undefined;
  let db: Knex | undefined;
  let succeeded = false;
  try {
    if (inUse.length) {
      throw new Error(`restore needs a fresh data directory, and ${config.dataDir} already holds ${inUse.join(', ')}. Move it aside or set CUSTODIAN_DATA_DIR to a new folder.`);
    }
    if (config.databaseUrl) {
      db = createKnex(config.databaseUrl, 2, 'custodian-restore');
      if (!(await databaseIsEmpty(db))) throw new Error('restore needs an empty database, and the one DATABASE_URL names already has tables. Create a new database for the restore.');
    } else {
      embedded = new EmbeddedPostgres({ dataDir: config.dataDir, runAsUser: config.embeddedPgUser, logger });
      await embedded.start();
      await embedded.ensureDatabase('custodian');
      db = createKnex(embedded.target('custodian'), 2, 'custodian-restore');
    }
    for (const name of manifest.database.migrations) await migrateUp(db, name);
    const restored = await restoreBackup({ file, verified, dataDir: config.dataDir, db, log: (l) => out(`  ${l}`) });
    const applied = await migrateLatest(db);
    if (applied.length) out(`  migrated to Custodian ${version}: ${applied.join(', ')}`);
    // Recorded in the restored chain, after the records the backup brought back.
    await audit(db, config, 'restore', {
      event_name: 'restore_backup', status: 'success',
      event: {
        object_type: 'backup',
        parameters: { from: file },
        resulting_state: { archive_sha256: verified.archiveSha256, backup_created_at: manifest.createdAt, backup_node_id: manifest.nodeId, backup_version: manifest.custodianVersion, rows: restored.rows, files: restored.files, migrations_applied: applied.length },
      },
    });
    const status = await migrationStatus(db);
    out(`Restored into ${config.databaseUrl ? 'the database of DATABASE_URL' : config.dataDir} (${status.completed.length} migrations applied, ${status.pending.length} pending). Start the server as usual.`);
    succeeded = true;
  } finally {
    await db?.destroy();
    await embedded?.stop();
    if (!succeeded) {
      // Leave the fresh data directory as it was found rather than half restored.
      for (const entry of fs.readdirSync(config.dataDir)) {
        if (!existedBefore.has(entry) && entry !== 'custodian.lock') fs.rmSync(path.join(config.dataDir, entry), { recursive: true, force: true });
      }
    }
    lock.release();
  }
}
