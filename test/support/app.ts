import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../server/config/load.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { startServer, type RunningServer } from '../../server/runtime.ts';
import { createKnex, type Knex } from '../../server/db/connection.ts';
import { createTestDatabase } from './postgres.ts';

export interface TestApp extends RunningServer {
  /** Owner connection to this app's database, for assertions and tampering. */
  ownerDb: Knex;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Boots the real server on an ephemeral port against a fresh database cloned from the migrated
 * template. `env` adds or overrides configuration variables.
 */
export async function bootApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-app-'));
  const config = loadConfig({
    CUSTODIAN_PORT: '0',
    CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1',
    CUSTODIAN_DATA_DIR: dataDir,
    CUSTODIAN_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CUSTODIAN_DB_POOL_MAX: '10',
    ...env,
  });
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
