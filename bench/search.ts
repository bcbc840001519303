// Search benchmark on a real server process (embedded PostgreSQL): seeds N posts at COPY speed
// (realistic text over 365 days, prior versions for 2 % of them), then measures eDiscovery and user
// search latency (p50/p95) for two terms + a 90-day range + from:, and prints the query plans of one
// such query (EXPLAIN ANALYZE) so a regression shows where it comes from.
// Run: npm run bench:search -- [--posts 1000000] [--users 10000] [--queries 60]
//      (--posts 10000000 needs about 25 GB free in the temporary directory and about 15 minutes)
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { apiClient, measureSearches, searchShapes, seedEdits } from './lib/search-latency.ts';
import { startBenchServer } from './lib/server.ts';
import { seedSessions } from './lib/sessions.ts';
import { machine, writeResults } from './lib/stats.ts';
import { seedWorld } from './lib/world.ts';
import { resolveSearch, hitsSql } from '../compliance/ediscovery/search.ts';
import { createKnex } from '../server/db/connection.ts';
import type { PgTarget } from '../server/db/targets.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '60' },
  },
});
const posts = Number(values.posts);
const freeGiB = fs.statfsSync(os.tmpdir()).bavail * fs.statfsSync(os.tmpdir()).bsize / 2 ** 30;
const neededGiB = (posts / 1_000_000) * 2.5;
if (freeGiB < neededGiB) throw new Error(`${posts} posts need about ${neededGiB.toFixed(0)} GiB in ${os.tmpdir()}; ${freeGiB.toFixed(0)} GiB are free`);

const server = await startBenchServer({ CUSTODIAN_RETENTION_DAILY_TIME: 'off', CUSTODIAN_DB_POOL_MAX: '20' });
const owner = server.owner();
const db = new pg.Client(owner);
const results: Record<string, unknown> = { machine: machine(), load_average_at_start: os.loadavg(), posts };

/** The plan of the eDiscovery statement of one query, as the server runs it (top lines). */
async function ediscoveryPlan(terms: string): Promise<string[]> {
  const knex = createKnex(owner as PgTarget, 1, 'custodian-bench-explain');
  try {
    const request = { terms, is_or_search: false, time_zone_offset: 0, include_versions: true, include_deleted: true, custodian_ids: [], channel_ids: [], team_ids: [] };
    const hits = hitsSql(await resolveSearch(knex, request));
    const { rows } = await knex.raw(`EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM (${hits.sql}) x ORDER BY create_at DESC, post_id DESC LIMIT 61`, hits.bindings);
    return rows.map((r: Record<string, string>) => r['QUERY PLAN']);
  } finally {
    await knex.destroy();
  }
}

try {
  await db.connect();
  const world = await seedWorld(owner, { posts, users: Number(values.users), days: 365, log: (l) => console.log(l) });
  results.seed_seconds = world.seconds;
  results.bytes = world.bytes;
  const editsStarted = performance.now();
  await seedEdits(db);
  results.edits_seconds = Math.round((performance.now() - editsStarted) / 100) / 10;
  const [officer] = await seedSessions(owner, world.userIds.slice(0, 1));
  await db.query("UPDATE users SET roles = 'system_user compliance_officer' WHERE id = $1", [world.userIds[0]]);

  const shapes = await searchShapes(db, Number(values.queries));
  const api = apiClient(server.url);
  // A few queries first, so the measured ones do not pay for cold caches of the fresh server.
  await measureSearches(owner, api, officer, shapes.slice(0, 5));
  results.search = await measureSearches(owner, api, officer, shapes);
  results.ediscovery_plan_example = { terms: shapes[0]?.terms, plan: shapes[0] ? await ediscoveryPlan(shapes[0].terms) : [] };
  console.log(JSON.stringify({ search: results.search }, null, 1));
  console.log((results.ediscovery_plan_example as { plan: string[] }).plan.join('\n'));
  writeResults('search', results);
} finally {
  await db.end().catch(() => undefined);
  await server.stop();
}
