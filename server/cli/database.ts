import { ensureDir } from '../lib/fs.ts';
import type { Config } from '../config/schema.ts';
import { createKnex, type Knex } from '../db/connection.ts';
import { DataDirLock, DataDirLockedError } from '../db/datadir-lock.ts';
import { EmbeddedPostgres } from '../db/embedded-postgres.ts';
import { migrateLatest } from '../db/migrate.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * Runs `fn` with an owner connection for CLI commands. With DATABASE_URL that is the external server.
 * In embedded mode: when a server is running on this data dir, its PostgreSQL is reused through the
 * Unix socket; otherwise the embedded cluster is started for the command and stopped afterwards.
 */
export async function withOwnerDatabase<T>(config: Config, logger: Logger, fn: (knex: Knex) => Promise<T>, options: { migrate?: boolean } = {}): Promise<T> {
  if (config.databaseUrl) return useKnex(createKnex(config.databaseUrl, 2, 'custodian-cli'), fn, options);
  const embedded = new EmbeddedPostgres({ dataDir: config.dataDir, runAsUser: config.embeddedPgUser, logger });
  const lock = new DataDirLock(config.dataDir);
  ensureDir(config.dataDir);
  try {
    lock.acquire();
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    // A server runs on this data dir: talk to its database, which it has migrated already.
    return useKnex(createKnex(embedded.target('custodian'), 2, 'custodian-cli'), fn, {});
  }
  try {
    await embedded.start();
    await embedded.ensureDatabase('custodian');
    return await useKnex(createKnex(embedded.target('custodian'), 2, 'custodian-cli'), fn, options);
  } finally {
    await embedded.stop();
    lock.release();
  }
}

async function useKnex<T>(knex: Knex, fn: (knex: Knex) => Promise<T>, options: { migrate?: boolean }): Promise<T> {
  try {
    if (options.migrate !== false) await migrateLatest(knex);
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

/**
 * For `custodian start` in embedded mode: takes the data-dir lock and creates the cluster when it does
 * not exist yet. The caller loads the server's modules meanwhile (a second or two), while initdb (as
 * long again on a first start) runs in its own process; the server then takes the lock over and finds
 * the cluster ready.
 */
export async function prepareEmbeddedCluster(config: Config, logger: Logger): Promise<void> {
  if (config.databaseUrl) return;
  ensureDir(config.dataDir);
  new DataDirLock(config.dataDir).acquire();
  await new EmbeddedPostgres({ dataDir: config.dataDir, runAsUser: config.embeddedPgUser, logger }).prepare();
}
