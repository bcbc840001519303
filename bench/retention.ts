// Retention and eDiscovery benchmark on a real server process (embedded PostgreSQL):
//   1. search: eDiscovery and user search latency (p50/p95) for two terms + a date range + from:,
//      over N posts with realistic text (and prior versions for 2 % of them);
//   2. purge: the data_retention job deleting about half the posts, its rate in posts/s, while a
//      paced reader load measures GET /channels/{id}/posts p99 against the same load at idle.
// Run: npm run bench:retention -- --posts 1000000 [--users 10000] [--batch 5000] [--pause 50]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startBenchServer } from './lib/server.ts';
import { seedSessions } from './lib/sessions.ts';
import { machine, summarize, writeResults } from './lib/stats.ts';
import { rng } from './lib/text.ts';
import { seedWorld } from './lib/world.ts';
import { wrkAvailable, wrkGet } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '5000' },
    pause: { type: 'string', default: '50' },
    queries: { type: 'string', default: '60' },
    'read-connections': { type: 'string', default: '20' },
    'read-delay-ms': { type: 'string', default: '50' },
    'read-seconds': { type: 'string', default: '15' },
    'keep-days': { type: 'string', default: '180' },
  },
});
const posts = Number(values.posts);
const DAY = 86_400_000;

if (!wrkAvailable()) throw new Error('this benchmark needs wrk (/usr/bin/wrk)');
const server = await startBenchServer({
  CUSTODIAN_RETENTION_DAILY_TIME: 'off',
  CUSTODIAN_RETENTION_BATCH_SIZE: values.batch,
  CUSTODIAN_RETENTION_BATCH_PAUSE_MS: values.pause,
  CUSTODIAN_DB_POOL_MAX: '20',
});
const owner = server.owner();
const db = new pg.Client(owner);
const results: Record<string, unknown> = { machine: machine(), posts, batch_size: Number(values.batch), pause_ms: Number(values.pause) };

async function api(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const res = await fetch(server.url + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const ms = performance.now() - started;
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, json: text ? JSON.parse(text) : {}, ms };
}

try {
  await db.connect();
  const world = await seedWorld(owner, { posts, users: Number(values.users), days: 365, log: (l) => console.log(l) });
  results.seed_seconds = world.seconds;
  // Prior versions (edits) for 2 % of the posts, so eDiscovery searches versions of realistic size;
  // an edit moves the post's update_at and edit_at, as the posts service does.
  const versionStart = performance.now();
  await db.query(
    `INSERT INTO post_versions (post_id, reason, message, props, file_ids, is_pinned, version_create_at, replaced_at, replaced_by)
     SELECT id, 'edit', message || ' (draft)', '{}', '[]', false, create_at, create_at + 60000, user_id FROM posts WHERE abs(hashtext(id)) % 50 = 0`,
  );
  await db.query('UPDATE posts SET update_at = create_at + 60000, edit_at = create_at + 60000 WHERE abs(hashtext(id)) % 50 = 0');
  await db.query('VACUUM ANALYZE posts, post_versions');
  results.versions_seconds = Math.round((performance.now() - versionStart) / 100) / 10;

  const tokens = await seedSessions(owner, world.userIds.slice(0, 50));
  const officerId = world.userIds[0];
  await db.query("UPDATE users SET roles = 'system_user compliance_officer' WHERE id = $1", [officerId]);
  const officer = tokens[0];

  // --- 1. Search latency: two terms + a date range + from: -------------------------------------
  // Each query is built from a real post (two of its words, its author, 90 days around it), so it
  // has at least one hit, as a reviewer's query usually does.
  const random = rng(42);
  const stop = new Set(['the', 'and', 'that', 'have', 'for', 'not', 'with', 'this', 'but', 'his', 'from', 'they', 'say', 'her', 'she', 'will', 'one', 'all', 'would', 'there', 'their', 'what', 'about', 'who', 'get', 'which', 'when', 'make', 'can', 'like', 'time', 'just', 'him', 'know', 'take', 'into', 'year', 'your', 'good', 'some', 'could', 'them', 'see', 'other', 'than', 'then', 'now', 'look', 'only', 'come', 'its', 'over', 'think', 'also', 'back', 'after', 'use', 'two', 'how', 'our', 'work', 'first', 'well', 'way', 'even', 'new', 'want', 'because', 'any', 'these', 'give', 'day', 'most', 'were', 'been', 'has', 'had', 'did', 'does', 'done']);
  const queries = Number(values.queries);
  const samples = (await db.query(`SELECT p.message, p.create_at, u.username, u.id, c.team_id FROM posts p TABLESAMPLE SYSTEM (1) JOIN users u ON u.id = p.user_id JOIN channels c ON c.id = p.channel_id WHERE p.root_id = '' LIMIT 2000`)).rows as { message: string; create_at: string; username: string; id: string; team_id: string }[];
  const shapes: { terms: string; user: { id: string; username: string }; teamId: string }[] = [];
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  for (const sample of samples) {
    if (shapes.length >= queries) break;
    const words = [...new Set(sample.message.toLowerCase().split(/[^a-z]+/).filter((w) => w.length >= 4 && !stop.has(w)))];
    if (words.length < 2) continue;
    const a = words[Math.floor(random() * words.length)];
    let b = words[Math.floor(random() * words.length)];
    while (b === a) b = words[Math.floor(random() * words.length)];
    const at = Number(sample.create_at) - Math.floor(random() * 60) * DAY;
    shapes.push({ terms: `${a} ${b} after:${day(at - 15 * DAY)} before:${day(at + 75 * DAY)} from:${sample.username}`, user: sample, teamId: sample.team_id });
  }
  const ediscovery: number[] = [];
  const ediscoveryNoFrom: number[] = [];
  let ediscoveryHits = 0;
  let broadHits = 0;
  for (const q of shapes) {
    const r = await api(officer, 'POST', '/api/v4/ediscovery/search', { terms: q.terms, per_page: 60 });
    ediscovery.push(r.ms);
    ediscoveryHits += Number(r.json.total_count);
    const broad = await api(officer, 'POST', '/api/v4/ediscovery/search', { terms: q.terms.replace(/ from:\S+/, ''), per_page: 60 });
    ediscoveryNoFrom.push(broad.ms);
    broadHits += Number(broad.json.total_count);
  }
  const userSearch: number[] = [];
  let userHits = 0;
  // The searcher is the author (a member of the channels the post is in), searching their team.
  const authorTokens = await seedSessions(owner, shapes.map((q) => q.user.id));
  for (const [i, q] of shapes.entries()) {
    const r = await api(authorTokens[i], 'POST', `/api/v4/teams/${q.teamId}/posts/search`, { terms: q.terms, is_or_search: false, per_page: 60 });
    userSearch.push(r.ms);
    userHits += (r.json.order as string[]).length;
  }
  results.search = {
    query: 'two terms + after:/before: (90 days) + from:<user>, newest 60, over every version',
    ediscovery_ms: summarize(ediscovery), ediscovery_mean_total_count: Math.round(ediscoveryHits / queries),
    ediscovery_without_from_ms: summarize(ediscoveryNoFrom), ediscovery_without_from_mean_total_count: Math.round(broadHits / queries),
    user_search_ms: summarize(userSearch), user_search_mean_hits: Math.round(userHits / queries),
  };
  console.log(JSON.stringify(results.search, null, 1));

  // --- 2. Purge rate beside a paced reader load ----------------------------------------------------
  const readers = (await db.query('SELECT channel_id FROM channel_members WHERE user_id = $1 LIMIT 20', [world.userIds[1]])).rows.map((r) => `/api/v4/channels/${r.channel_id}/posts?per_page=60&page=${0}`);
  const readPaths = readers.flatMap((p) => [p, p.replace('page=0', 'page=1')]);
  const headers = { Authorization: `Bearer ${tokens[1]}` };
  const conns = Number(values['read-connections']);
  const delay = Number(values['read-delay-ms']);
  const seconds = Number(values['read-seconds']);
  await wrkGet(server.url, readPaths, headers, conns, 3, delay); // warm up
  const idle = await wrkGet(server.url, readPaths, headers, conns, seconds, delay);
  console.log('idle reads', idle);

  const keepDays = Number(values['keep-days']);
  const before = Number((await db.query('SELECT count(*) AS n FROM posts')).rows[0].n);
  await api(officer, 'PUT', '/api/v4/data_retention/policy', { message_deletion_enabled: true, message_retention_days: keepDays });
  const job = (await api(officer, 'POST', '/api/v4/jobs', { type: 'data_retention' })).json as { id: string };
  const purgeStarted = Date.now();
  const during = await wrkGet(server.url, readPaths, headers, conns, seconds, delay);
  const readsEnded = Date.now();
  let status = '';
  let data: Record<string, string> = {};
  for (;;) {
    const j = (await api(officer, 'GET', `/api/v4/jobs/${job.id}`)).json as { status: string; data: Record<string, string>; start_at: number; last_activity_at: number };
    status = j.status;
    data = j.data;
    if (['success', 'error', 'warning', 'canceled'].includes(status)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const row = (await db.query('SELECT start_at, last_activity_at FROM jobs WHERE id = $1', [job.id])).rows[0];
  const purgeSeconds = (Number(row.last_activity_at) - Number(row.start_at)) / 1000;
  const deleted = Number(data.posts ?? 0);
  const after = Number((await db.query('SELECT count(*) AS n FROM posts')).rows[0].n);
  results.purge = {
    status, deleted, posts_before: before, posts_after: after, batches: Number(data.batches ?? 0), versions_deleted: Number(data.versions ?? 0),
    seconds: Math.round(purgeSeconds * 10) / 10, posts_per_second: Math.round(deleted / purgeSeconds),
    reads_within_purge: Number(row.start_at) <= purgeStarted + 1000 && Number(row.last_activity_at) >= readsEnded,
  };
  results.reads = {
    load: `${conns} connections, ${delay} ms think time, ${seconds} s, GET /channels/{id}/posts (pages 0 and 1 of 20 channels)`,
    idle, during_purge: during, p99_ratio: Math.round((during.p99 / idle.p99) * 100) / 100,
  };
  console.log(JSON.stringify({ purge: results.purge, reads: results.reads }, null, 1));
  const file = writeResults('retention', results);
  console.log(`results: ${file}`);
} finally {
  await db.end().catch(() => undefined);
  await server.stop();
}
