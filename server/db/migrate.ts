import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

/** The project's migrations folder (next to server/ in the source tree and in the tarball). */
export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

const migrationFile = /^\d{14}_[a-z0-9_]+\.(ts|js)$/;

interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Lists `migrations/*.ts|js`, one change per timestamped file, ordered by name. */
class FolderMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(migrationsDir)
      .filter((f) => migrationFile.test(f) && !f.endsWith('.d.ts'))
      .sort();
  }
  getMigrationName(file: string): string {
    // Recorded without extension so the compiled .js files of the tarball match the .ts ones.
    return file.replace(/\.(ts|js)$/, '');
  }
  async getMigration(file: string): Promise<MigrationModule> {
    return (await import(pathToFileURL(path.join(migrationsDir, file)).href)) as MigrationModule;
  }
}

const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new FolderMigrationSource(),
  tableName: 'schema_migrations',
  disableMigrationsListValidation: false,
};

/** Applies every pending migration; returns the names applied. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(migrationConfig)) as [number, string[]];
  return applied;
}

/** Completed and pending migrations, for `custodian migrate --status`. */
export async function migrationStatus(knex: Knex): Promise<{ completed: string[]; pending: string[] }> {
  const [completed, pending] = (await knex.migrate.list(migrationConfig)) as [{ name: string }[], string[]];
  return {
    completed: completed.map((m) => m.name),
    pending: pending.map((m) => (typeof m === 'string' ? m : (m as { file: string }).file)),
  };
}

/** Rolls back the last batch (development and upgrade tests only). */
export async function migrateRollback(knex: Knex): Promise<string[]> {
  const [, rolledBack] = (await knex.migrate.rollback(migrationConfig)) as [number, string[]];
  return rolledBack;
}

/** Names of the migrations this build ships, in order (as recorded in schema_migrations). */
export async function availableMigrations(): Promise<string[]> {
  const source = new FolderMigrationSource();
  return (await source.getMigrations()).map((file) => source.getMigrationName(file));
}

/** Applies one named migration (restore replays exactly the migrations a backup was taken at). */
export async function migrateUp(knex: Knex, name: string): Promise<void> {
  await knex.migrate.up({ ...migrationConfig, name });
}
