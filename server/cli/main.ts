#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { loadAndCheckConfig } from '../config/preflight.ts';
import type { Config } from '../config/schema.ts';
import { DataDirLockedError } from '../db/datadir-lock.ts';
import { availableMigrations, migrationStatus } from '../db/migrate.ts';
import { createLogger } from '../lib/logger.ts';
import { version } from '../lib/version.ts';
import { describeBuild } from '../release/build-info.ts';
import { prepareEmbeddedCluster, withOwnerDatabase } from './database.ts';

// Each command's module is imported when that command runs: loading every command's dependencies
// (the OpenSearch client, the validation schemas, the signing code...) took seconds and tens of MiB
// before any command could start, an export worker's included.

const EXIT_USAGE = 64;
const EXIT_CONFIG = 78;

async function usage(): Promise<string> {
  const [{ exportUsage }, { auditUsage }, { retentionUsage }, { searchUsage }] = await Promise.all([
    import('./export.ts'), import('./audit.ts'), import('./retention.ts'), import('./search.ts'),
  ]);
  return `Usage: custodian <command> [options]

Commands:
  start                               Run the server (embedded PostgreSQL unless DATABASE_URL is set)
  migrate [--status]                  Apply pending database migrations, or list their status
  user create --email E --username U --password P [--system-admin]
                                      Create a local user
${exportUsage}
${auditUsage}
${retentionUsage}
${searchUsage}
  version                             Print the version
  backup --out FILE                   Write a consistent, checksummed backup (database, files, keys); works while the server runs
  restore --from FILE [--verify-only] Verify a backup, then restore it into a fresh data directory (with DATABASE_URL: and an empty database)
  verify-install [--public-key PEM]   Check this release's signature and every file's SHA-256

Configuration comes from the environment (CUSTODIAN_PORT, CUSTODIAN_DATA_DIR, DATABASE_URL, ...) and
the optional JSON file named by CUSTODIAN_CONFIG_FILE. See README.md.`;
}

class UsageError extends Error {}

async function config(): Promise<Config> {
  return loadAndCheckConfig(process.env);
}

async function start(): Promise<void> {
  const cfg = await config();
  const logger = createLogger(cfg.logLevel);
  // Loaded here, not at the top: other commands (an export worker, verify) need not carry the whole server.
  // A first start's initdb runs in its own process at the same time.
  const [{ startServer }] = await Promise.all([import('../runtime.ts'), prepareEmbeddedCluster(cfg, logger)]);
  const server = await startServer({ config: cfg, logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function migrate(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { status: { type: 'boolean' } } });
  const cfg = await config();
  const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
  await withOwnerDatabase(cfg, logger, async (knex) => {
    const status = await migrationStatus(knex);
    for (const name of status.completed) process.stdout.write(`applied  ${name}\n`);
    for (const name of status.pending) process.stdout.write(`pending  ${name}\n`);
    if (!values.status) process.stdout.write(`Database schema is up to date (${status.completed.length} migrations).\n`);
    else process.stdout.write(`Custodian ${version}: ${status.completed.length} applied, ${status.pending.length} pending${status.pending.length ? ' (applied at the next start, or now with `custodian migrate`)' : ''}\n`);
  }, { migrate: !values.status });
}

async function user(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError(`Unknown user command "${sub ?? ''}".`);
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, 'system-admin': { type: 'boolean' } },
  });
  if (!values.email || !values.username || !values.password) throw new UsageError('user create needs --email, --username and --password.');
  const cfg = await config();
  const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
  const [{ createUser }, { recordCliAudit }] = await Promise.all([import('../users/service.ts'), import('./audit.ts')]);
  const created = await withOwnerDatabase(cfg, logger, (knex) =>
    knex.transaction(async (trx) => {
      const user = await createUser(trx, {
        email: values.email!,
        username: values.username!,
        password: values.password,
        roles: values['system-admin'] ? 'system_user system_admin' : 'system_user',
      });
      await recordCliAudit(trx, cfg, 'user create', { event_name: 'create_user', object_type: 'user', parameters: values, resulting_state: { user_id: user.id, username: user.username, roles: user.roles } });
      return user;
    }),
  );
  process.stdout.write(`Created user ${created.username} (${created.id}) with roles: ${created.roles}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
      return start();
    case 'migrate':
      return migrate(args);
    case 'user':
      return user(args);
    case 'backup':
    case 'restore': {
      const cfg = await config();
      const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel);
      const { backupCommand, restoreCommand } = await import('./backup.ts');
      return (command === 'backup' ? backupCommand : restoreCommand)(args, cfg, logger, (m) => new UsageError(m));
    }
    case 'verify-install':
      process.exitCode = await (await import('./verify-install.ts')).verifyInstallCommand(args, (m) => new UsageError(m));
      return;
    case 'export':
      process.exitCode = await (await import('./export.ts')).exportCommand(args, config, (cfg) => createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), (message) => new UsageError(message));
      return;
    case 'audit':
      process.exitCode = await (await import('./audit.ts')).auditCommand(args, config, (cfg) => createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), (message) => new UsageError(message));
      return;
    case 'retention':
      process.exitCode = await (await import('./retention.ts')).retentionCommand(args, config, (cfg) => createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), (message) => new UsageError(message));
      return;
    case 'search':
      process.exitCode = await (await import('./search.ts')).searchCommand(args, config, (cfg) => createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel), (message) => new UsageError(message));
      return;
    case 'version':
    case '--version':
      process.stdout.write(`Custodian ${version} (Node ${process.version})\n`);
      if (command === 'version') {
        const migrations = await availableMigrations();
        process.stdout.write([...describeBuild(), `Migrations in this build: ${migrations.length} (latest ${migrations.at(-1) ?? 'none'}); \`custodian migrate --status\` compares them with the database`].join('\n') + '\n');
      }
      return;
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write((await usage()) + '\n');
      return;
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`Custodian cannot start: invalid configuration\n${err.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${await usage()}\n`);
    process.exit(EXIT_USAGE);
  }
  if (err instanceof DataDirLockedError) {
    process.stderr.write(`Custodian cannot start: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`Custodian failed: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
