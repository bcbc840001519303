import { sessionActivity } from './auth/session-activity.ts';
import { ensureDir } from './lib/fs.ts';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { auditConfigChanges } from './config/change-audit.ts';
import type { Config } from './config/schema.ts';
import { APP_ROLE, grantAppRole } from './db/app-role.ts';
import { createKnex, type Knex } from './db/connection.ts';
import { DataDirLock } from './db/datadir-lock.ts';
import { EmbeddedPostgres } from './db/embedded-postgres.ts';
import { migrateLatest } from './db/migrate.ts';
import type { DatabaseTargets, PgTarget } from './db/targets.ts';
import type { Logger } from './lib/logger.ts';
import { buildServices, type Services } from './services.ts';
import { createHttpApp } from './http/app.ts';
import { loadTls } from './http/tls.ts';
import { apiRouters, rootRouters } from './api/index.ts';
import { startOutgoingWebhooks } from './integrations/outgoing-dispatch.ts';
import { startThreadEvents } from './threads/events.ts';
import { startBackgroundJobs } from './job-types.ts';
import { startSearchIndexing } from './search/active-index.ts';
import { attachWebSocket } from './realtime/websocket-server.ts';
import { PgEventRelay } from './realtime/cluster-relay.ts';
import { shareSessionInvalidations } from './realtime/cluster-sessions.ts';

export interface StartOptions {
  config: Config;
  logger: Logger;
  /** Connect here instead of starting the embedded server or reading DATABASE_URL (tests). */
  database?: DatabaseTargets & { appRolePassword?: string };
  /** Extra settings for the embedded PostgreSQL server. */
  embeddedSettings?: Record<string, string>;
}

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  stop(): Promise<void>;
}

function secret(dataDir: string, name: string): string {
  const file = path.join(dataDir, 'secrets', name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    ensureDir(path.dirname(file), 0o700);
    const value = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
    return value;
  }
}

/** Resolves where the database is: explicit targets, DATABASE_URL, or an embedded cluster started now. */
async function prepareDatabase(options: StartOptions, cleanups: (() => Promise<void>)[]): Promise<{ owner: PgTarget | string; app: PgTarget | string; appRolePassword?: string }> {
  const { config, logger } = options;
  if (options.database) return options.database;
  if (config.databaseUrl) return { owner: config.databaseUrl, app: config.databaseUrl };
  const embedded = new EmbeddedPostgres({ dataDir: config.dataDir, runAsUser: config.embeddedPgUser, logger, settings: options.embeddedSettings });
  cleanups.unshift(() => embedded.stop());
  await embedded.start();
  await embedded.ensureDatabase('custodian');
  const owner = embedded.target('custodian');
  const appRolePassword = secret(config.dataDir, 'db-app-password');
  return { owner, app: { ...owner, user: APP_ROLE, password: appRolePassword }, appRolePassword };
}

/** Migrates the schema as the owner, and (when the app has its own role) refreshes that role's grants. */
async function migrate(owner: PgTarget | string, appRolePassword: string | undefined, logger: Logger): Promise<void> {
  const knex = createKnex(owner, 2, 'custodian-migrate');
  try {
    const applied = await migrateLatest(knex);
    if (applied.length) logger.info({ applied }, 'applied database migrations');
    if (appRolePassword) await grantAppRole(knex, appRolePassword);
  } finally {
    await knex.destroy();
  }
}

/**
 * Boots one Custodian server: data-dir lock → database (embedded or external) → migrations →
 * services → HTTP + WebSocket. Everything started is stopped again, in reverse order, by `stop()` or
 * when a later step fails.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config, logger } = options;
  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch((err) => logger.error({ err }, 'error during shutdown'));
  };
  try {
    ensureDir(config.dataDir);
    const lock = new DataDirLock(config.dataDir);
    lock.acquire();
    cleanups.unshift(async () => lock.release());

    const { owner, app, appRolePassword } = await prepareDatabase(options, cleanups);
    await migrate(owner, appRolePassword, logger);
    const db: Knex = createKnex(app, config.dbPoolMax);
    cleanups.unshift(() => db.destroy());
    cleanups.unshift(() => sessionActivity.flush(db));

    const services = buildServices({ config, logger, db });
    cleanups.unshift(() => services.close());
    // Stopped after the HTTP server and the jobs (registered before them): their last records get sealed and signed.
    await services.audit.start();
    cleanups.unshift(() => services.audit.close());
    await auditConfigChanges(db, config, Buffer.from(secret(config.dataDir, 'config-fingerprint-key')), logger);
    await services.identity.start();
    cleanups.unshift(() => services.identity.stop());
    const relay = new PgEventRelay({ db, target: app, bus: services.events, logger, nodeId: config.nodeId });
    await relay.start();
    services.events.attachRelay(relay);
    cleanups.unshift(() => relay.stop());
    const stopSharingSessions = shareSessionInvalidations(services.events, relay.origin);
    cleanups.unshift(async () => stopSharingSessions());
    cleanups.unshift(startOutgoingWebhooks(services));
    cleanups.unshift(startThreadEvents(services));
    cleanups.unshift(await startSearchIndexing(services));
    cleanups.unshift(await startBackgroundJobs(services));

    const httpApp = createHttpApp({
      logger,
      https: config.secureCookies,
      apiRouters: apiRouters(services),
      rootRouters: rootRouters(services),
      metrics: services.metrics,
    });
    const tls = loadTls(config, logger);
    const serverOptions = { requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 };
    // With a certificate configured (or self-signed), HTTPS and WSS are served directly.
    const server = (tls ? https.createServer({ ...serverOptions, key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, httpApp.callback()) : http.createServer(serverOptions, httpApp.callback())) as http.Server;
    cleanups.unshift(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    });
    // Registered after the HTTP server's cleanup so it runs first: open sockets would hold server.close().
    const websocket = attachWebSocket(server, services);
    cleanups.unshift(() => websocket.close());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.listenAddress, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const host = config.listenAddress === '0.0.0.0' || config.listenAddress === '::' ? '127.0.0.1' : config.listenAddress;
    logger.info({ port, address: config.listenAddress, site_url: config.siteUrl, node_id: config.nodeId, tls: tls ? { source: tls.source, cert: tls.certFile, sha256: tls.fingerprint256 } : 'off' }, 'Custodian is serving');
    return { url: `${tls ? 'https' : 'http'}://${host}:${port}`, port, services, stop: runCleanups };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
