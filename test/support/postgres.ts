import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { APP_ROLE, grantAppRole } from '../../server/db/app-role.ts';
import { createKnex } from '../../server/db/connection.ts';
import { EmbeddedPostgres } from '../../server/db/embedded-postgres.ts';
import { migrateLatest } from '../../server/db/migrate.ts';
import type { PgTarget } from '../../server/db/targets.ts';
import { createLogger } from '../../server/lib/logger.ts';

/** What the test runner's PostgreSQL offers to test files (passed through the environment). */
export interface TestCluster {
  owner: PgTarget;
  appPassword: string;
  template: string;
}

export const TEMPLATE_DB = 'custodian_template';
export const APP_PASSWORD = 'test-app-role-password';

/**
 * Starts one embedded PostgreSQL for the whole run (durability settings off: tests do not survive
 * power loss anyway), migrates a template database once, and returns how to reach it.
 */
export async function startTestCluster(): Promise<{ cluster: TestCluster; stop(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-test-'));
  fs.chmodSync(dataDir, 0o755);
  const embedded = new EmbeddedPostgres({
    dataDir,
    runAsUser: 'custodian',
    logger: createLogger('warn'),
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  await embedded.start();
  await embedded.ensureDatabase(TEMPLATE_DB);
  const knex = createKnex(embedded.target(TEMPLATE_DB), 2, 'custodian-test-setup');
  try {
    await migrateLatest(knex);
    await grantAppRole(knex, APP_PASSWORD);
  } finally {
    await knex.destroy();
  }
  return {
    cluster: { owner: embedded.target('postgres'), appPassword: APP_PASSWORD, template: TEMPLATE_DB },
    async stop() {
      await embedded.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function clusterFromEnv(): TestCluster {
  const raw = process.env.CUSTODIAN_TEST_CLUSTER;
  if (!raw) throw new Error('Run tests through `npm test` (scripts/run-tests.ts starts their PostgreSQL).');
  return JSON.parse(raw) as TestCluster;
}

let counter = 0;

/** A fresh database cloned from the migrated template; returns owner and app-role targets. */
export async function createTestDatabase(): Promise<{ owner: PgTarget; app: PgTarget; name: string; drop(): Promise<void> }> {
  const cluster = clusterFromEnv();
  const name = `t_${process.pid}_${++counter}_${Date.now().toString(36)}`;
  const admin = new pg.Client(cluster.owner);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${cluster.template}`);
  } finally {
    await admin.end();
  }
  const owner = { ...cluster.owner, database: name };
  return {
    name,
    owner,
    app: { ...owner, user: APP_ROLE, password: cluster.appPassword },
    async drop() {
      const c = new pg.Client(cluster.owner);
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
