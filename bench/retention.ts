// Retention and eDiscovery benchmark on a real server process (embedded PostgreSQL):
//   1. search: eDiscovery and user search latency (p50/p95) for two terms + a date range + from:,
//      over N posts with realistic text (and prior versions for 2 % of them);
//   2. purge: the data_retention job deleting about half the posts, its rate in posts/s, while a
//      paced reader load measures GET /channels/{id}/posts p99 against the same load at idle.
// Run: npm run bench:retention -- --posts 1000000 [--users 10000] [--batch 10000] [--pause 20]
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sampleBackendCpu } from './lib/backend-cpu.ts';
import { startBenchServer } from './lib/server.ts';
import { pacedReadsFor, readStats, startPacedReads } from './lib/paced-reads.ts';
import { seedSessions } from './lib/sessions.ts';
import { apiClient, measureSearches, searchShapes, seedEdits } from './lib/search-latency.ts';
import { machine, writeResults } from './lib/stats.ts';
import { seedWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '10000' },
    pause: { type: 'string', default: '20' },
    queries: { type: 'string', default: '60' },
    'read-connections': { type: 'string', default: '20' },
    'read-delay-ms': { type: 'string', default: '50' },
    'read-seconds': { type: 'string', default: '15' },
    'keep-days': { type: 'string', default: '180' },
  },
});
const posts = Number(values.posts);

const server = await startBenchServer({
  CUSTODIAN_RETENTION_DAILY_TIME: 'off',
  CUSTODIAN_RETENTION_BATCH_SIZE: values.batch,
  CUSTODIAN_RETENTION_BATCH_PAUSE_MS: values.pause,
  CUSTODIAN_DB_POOL_MAX: '20',
});
const owner = server.owner();
const db = new pg.Client(owner);
const results: Record<string, unknown> = { machine: machine(), load_average_at_start: os.loadavg(), posts, batch_size: Number(values.batch), pause_ms: Number(values.pause) };

const api = apiClient(server.url);

try {
  await db.connect();
  const world = await seedWorld(owner, { posts, users: Number(values.users), days: 365, log: (l) => console.log(l) });
  results.seed_seconds = world.seconds;
  const versionStart = performance.now();
  await seedEdits(db);
  results.versions_seconds = Math.round((performance.now() - versionStart) / 100) / 10;

  const tokens = await seedSessions(owner, world.userIds.slice(0, 50));
  const officerId = world.userIds[0];
  await db.query("UPDATE users SET roles = 'system_user compliance_officer' WHERE id = $1", [officerId]);
  const officer = tokens[0];

  // --- 1. Search latency: two terms + a date range + from: -------------------------------------
  results.search = await measureSearches(owner, api, officer, await searchShapes(db, Number(values.queries)));
  console.log(JSON.stringify(results.search, null, 1));

  // --- 2. Purge rate beside a paced reader load ----------------------------------------------------
  const readers = (await db.query('SELECT channel_id FROM channel_members WHERE user_id = $1 LIMIT 20', [world.userIds[1]])).rows.map((r) => `/api/v4/channels/${r.channel_id}/posts?per_page=60&page=${0}`);
  const readPaths = readers.flatMap((p) => [p, p.replace('page=0', 'page=1')]);
  const headers = { Authorization: `Bearer ${tokens[1]}` };
  const conns = Number(values['read-connections']);
  const delay = Number(values['read-delay-ms']);
  const seconds = Number(values['read-seconds']);
  // Each request is timed with its send time, so the reads are judged over exactly the purge's run.
  const readerLoad = { url: server.url, paths: readPaths, headers, connections: conns, delayMs: delay };
  await pacedReadsFor(readerLoad, 3); // warm up
  const idleSamples = await pacedReadsFor(readerLoad, seconds);
  const idle = readStats(idleSamples);
  console.log('idle reads', idle);

  const keepDays = Number(values['keep-days']);
  const before = Number((await db.query('SELECT count(*) AS n FROM posts')).rows[0].n);
  await api(officer, 'PUT', '/api/v4/data_retention/policy', { message_deletion_enabled: true, message_retention_days: keepDays });
  const live = startPacedReads(readerLoad);
  await new Promise((r) => setTimeout(r, 1000));
  const job = (await api(officer, 'POST', '/api/v4/jobs', { type: 'data_retention' })).json as { id: string };
  const purgeCpu = sampleBackendCpu(db, 'custodian-retention');
  let status = '';
  let data: Record<string, string> = {};
  for (;;) {
    const j = (await api(officer, 'GET', `/api/v4/jobs/${job.id}`)).json as { status: string; data: Record<string, string> };
    status = j.status;
    data = j.data;
    if (['success', 'error', 'warning', 'canceled'].includes(status)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const cpuSeconds = await purgeCpu.stop();
  // A few seconds after the purge: what the table's autovacuum (half its rows just died) costs readers.
  await new Promise((r) => setTimeout(r, 5000));
  const liveSamples = await live.stop();
  const row = (await db.query('SELECT start_at, last_activity_at FROM jobs WHERE id = $1', [job.id])).rows[0];
  const purgeFrom = Number(row.start_at);
  const purgeTo = Number(row.last_activity_at);
  const purgeSeconds = (purgeTo - purgeFrom) / 1000;
  const deleted = Number(data.posts ?? 0);
  const after = Number((await db.query('SELECT count(*) AS n FROM posts')).rows[0].n);
  results.purge = {
    status, deleted, posts_before: before, posts_after: after, batches: Number(data.batches ?? 0), versions_deleted: Number(data.versions ?? 0),
    seconds: Math.round(purgeSeconds * 10) / 10, posts_per_second: Math.round(deleted / purgeSeconds),
    // The purge's backend runs at the lowest priority: on a machine busy with other work its wall-clock
    // rate says how much CPU was left over; its rate per CPU second says what it does with a core of its own.
    backend_cpu_seconds: cpuSeconds, posts_per_backend_cpu_second: cpuSeconds > 0 ? Math.round(deleted / cpuSeconds) : null,
  };
  const during = readStats(liveSamples, purgeFrom, purgeTo);
  results.reads = {
    load: `${conns} connections, ${delay} ms think time, GET /channels/{id}/posts (pages 0 and 1 of 20 channels); idle ${seconds} s, then from 1 s before the purge to 5 s after it`,
    idle, during_purge: during, after_purge_5s: readStats(liveSamples, purgeTo + 1, Infinity),
    p99_ratio: Math.round((during.p99 / idle.p99) * 100) / 100,
    p95_ratio: Math.round((during.p95 / idle.p95) * 100) / 100,
  };
  console.log(JSON.stringify({ purge: results.purge, reads: results.reads }, null, 1));
  const file = writeResults('retention', results);
  console.log(`results: ${file}`);
} finally {
  await db.end().catch(() => undefined);
  await server.stop();
}
