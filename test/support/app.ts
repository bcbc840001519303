import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config/load.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { createKnex, type Knex } from '../../server/db/connection.ts';
import { createTestDatabase } from './postgres.ts';
import type { PgTarget } from '../../server/db/targets.ts';

export interface TestApp extends RunningServer {
  /** Owner connection to this app's database, for assertions and tampering. */
  ownerDb: Knex;
  dataDir: string;
  /** Where this app's database is, so a second node can join it. */
  database: { owner: PgTarget; app: PgTarget };
  close(): Promise<void>;
}

export function testConfig(dataDir: string, env: Record<string, string>) {
  return loadConfig({
    CUSTODIAN_PORT: '0',
    CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1',
    CUSTODIAN_DATA_DIR: dataDir,
    CUSTODIAN_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CUSTODIAN_DB_POOL_MAX: '10',
    ...env,
  });
}

/**
 * Starts another server process-equivalent (its own data dir, pools, hub and caches) on the same
 * database as `first`: a second node of a cluster.
 */
export async function bootSecondNode(first: TestApp, env: Record<string, string> = {}): Promise<RunningServer & { close(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-node2-'));
  // Nodes of one cluster share their signing keys, as an operator deploys them (a shared keys volume).
  const keys = path.join(first.dataDir, 'keys');
  if (fs.existsSync(keys)) fs.cpSync(keys, path.join(dataDir, 'keys'), { recursive: true });
  const config = testConfig(dataDir, { CUSTODIAN_NODE_ID: 'node-2', ...env });
  const server = await startServer({ config, logger: createLogger(config.logLevel), database: first.database });
  return {
    ...server,
    async close() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Boots the real server on an ephemeral port against a fresh database cloned from the migrated
 * template. `env` adds or overrides configuration variables.
 */
export async function bootApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-app-'));
  const config = testConfig(dataDir, env);
  const server = await startServer({
    config,
    logger: createLogger(config.logLevel),
    database: { owner: database.owner, app: database.app },
  });
  const ownerDb = createKnex(database.owner, 2, 'custodian-test-owner');
  return {
    ...server,
    ownerDb,
    dataDir,
    database: { owner: database.owner, app: database.app },
    async close() {
      await server.stop();
      await ownerDb.destroy();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch() against the app, returning status, headers and parsed JSON (when the body is JSON). */
export async function request(app: { url: string }, method: string, urlPath: string, options: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; token?: string } = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(app.url + urlPath, { method, headers, body });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON shapes
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
