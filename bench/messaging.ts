// Messaging benchmarks (issue: messaging core). Run: npm run bench:messaging -- [--posts N] [--seconds S]
// Figures: GET /channels/{id}/posts?per_page=60 latency at 50 concurrent clients over N seeded posts;
// database size per million posts; post creation throughput as a ratio to raw single-row INSERTs.
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { closedLoop } from './lib/load.ts';
import { processCpuSeconds, treeCpuSeconds } from './lib/procstat.ts';
import { wrkAvailable, wrkGet } from './lib/wrk.ts';
import { seed } from './lib/seed.ts';
import { startBenchServer } from './lib/server.ts';
import { machine, since, writeResults } from './lib/stats.ts';
import { describeStorage, postsStorage } from './lib/storage.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    channels: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '50' },
    inserts: { type: 'string', default: '3000' },
    profile: { type: 'boolean', default: false },
    // Skips the read phases: storage and post creation only (before/after comparisons of the write path).
    'writes-only': { type: 'boolean', default: false },
  },
});
const posts = Number(values.posts);
const channels = Number(values.channels);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const inserts = Number(values.inserts);

// --profile writes a V8 CPU profile of the server process to bench/results/ for the hot-path review.
const server = await startBenchServer(values.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(import.meta.dirname, 'results')}` } : {});
const results: Record<string, unknown> = { machine: machine(), posts, channels };
try {
  let t = performance.now();
  const seeded = await seed(server.owner(), { users: 100, channels, posts, membersPerChannel: 50 });
  results.seed_seconds = Math.round(since(t) / 100) / 10;
  console.log(`seeded ${posts} posts in ${results.seed_seconds} s`);

  const login = await fetch(`${server.url}/api/v4/users/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login_id: seeded.usernames[0], password: seeded.password }) });
  const token = login.headers.get('token')!;
  const auth = { Authorization: `Bearer ${token}` };

  if (!values['writes-only']) {
    // Read path: the page a client loads when it opens a channel, across all channels (a cold first
    // pass, then the steady state a busy server sees).
    const paths = seeded.channelIds.map((id) => `/api/v4/channels/${id}/posts?per_page=60`);
    if (!wrkAvailable()) throw new Error('wrk is needed for the read benchmark: apt-get install wrk');
    const cold = await wrkGet(server.url, paths, auth, concurrency, Math.max(5, Math.round(seconds / 4)));
    const getPosts = await wrkGet(server.url, paths, auth, concurrency, seconds);
    // The same 50 clients with 25 ms of think time between requests (about 2,000 requests/s offered).
    const paced = await wrkGet(server.url, paths, auth, concurrency, seconds, 25);
    results.get_posts_per_page_60 = { concurrency, warmup: cold, saturated: getPosts, paced_25ms_think_time: paced, target: 'p50 <= 5 ms, p99 <= 20 ms' };
    console.log('GET /channels/{id}/posts?per_page=60 cold', cold, 'saturated', getPosts, 'paced', paced);

    // The raw limit beside it: the same keyset read straight from PostgreSQL, 50 clients.
    const rawReaders = await Promise.all(Array.from({ length: concurrency }, async () => {
      const c = new pg.Client(server.owner());
      await c.connect();
      return c;
    }));
    const rawRead = (w: number, i: number) =>
      rawReaders[w].query({ name: 'page', text: 'SELECT * FROM posts WHERE channel_id = $1 AND delete_at = 0 ORDER BY create_at DESC, id DESC LIMIT 61', values: [seeded.channelIds[(i * 7919) % seeded.channelIds.length]] }).then(() => true);
    const raw = await closedLoop(concurrency, Math.max(5, Math.round(seconds / 2)) * 1000, rawRead);
    for (const c of rawReaders) await c.end();
    results.raw_keyset_read_60 = raw;
    results.get_posts_ratio_to_raw_rps = Math.round((getPosts.rps / raw.rps) * 100) / 100;
    console.log('raw keyset read of 60 posts, same concurrency', raw);
  }

  // Storage: posts table with its indexes and TOAST, per million posts (bench/storage.ts compares
  // live-inserted with rebuilt indexes on realistic text).
  const owner = new pg.Client(server.owner());
  await owner.connect();
  const storage = await postsStorage(owner, posts);
  Object.assign(results, { db_bytes_per_million_posts: storage.bytes_per_million_posts, db_gb_per_million_posts: storage.gb_per_million_posts, db_gib_per_million_posts: storage.gib_per_million_posts, db_bytes_per_post: storage.bytes_per_post });
  console.log('bytes per post', storage.bytes_per_post);
  console.log(`posts table: ${describeStorage(storage)}`);

  // Write path vs raw single-row INSERT, sequential and concurrent, same machine, same run.
  await owner.query('CREATE TABLE bench_raw_posts (LIKE posts INCLUDING ALL)');
  const channelId = seeded.channelIds[0];
  const rawClients = await Promise.all(Array.from({ length: 16 }, async () => {
    const c = new pg.Client(server.owner());
    await c.connect();
    return c;
  }));
  let n = 0;
  const rawInsert = (w: number) =>
    rawClients[w].query({
      name: 'raw',
      text: 'INSERT INTO bench_raw_posts (id, create_at, update_at, user_id, channel_id, message) VALUES ($1, $2, $2, $3, $4, $5)',
      values: [`raw${String(n++).padStart(23, '0')}`, Date.now(), seeded.userIds[0], channelId, 'a realistic chat message of some length'],
    }).then(() => true);
  const apiPost = () =>
    fetch(`${server.url}/api/v4/posts`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ channel_id: seeded.channelIds[(n++ * 13) % 50], message: 'a realistic chat message of some length' }) }).then(async (r) => {
      await r.arrayBuffer();
      return r.status === 201;
    });
  // CPU time of the server and its PostgreSQL per operation: steadier than rates on a shared machine.
  const timed = async (fn: (w: number) => Promise<boolean>, workers: number) => {
    t = performance.now();
    const cpuBefore = treeCpuSeconds(server.child.pid!);
    const nodeBefore = processCpuSeconds(server.child.pid!);
    const r = await closedLoop(workers, 600_000, fn, inserts);
    const perOp = (seconds: number) => Math.round(((seconds * 1000) / Math.max(1, r.count)) * 100) / 100;
    const cpuMs = perOp(treeCpuSeconds(server.child.pid!) - cpuBefore);
    const nodeMs = perOp(processCpuSeconds(server.child.pid!) - nodeBefore);
    // Split: the server's Node process, and PostgreSQL (its backends, WAL writer, checkpointer...).
    return { per_second: Math.round(r.count / (since(t) / 1000)), p50: r.p50, p99: r.p99, errors: r.errors, server_and_db_cpu_ms_per_op: cpuMs, node_cpu_ms_per_op: nodeMs, db_cpu_ms_per_op: Math.round((cpuMs - nodeMs) * 100) / 100 };
  };
  const rawSeq = await timed(rawInsert, 1);
  const apiSeq = await timed(apiPost, 1);
  const rawConc = await timed(rawInsert, 16);
  const apiConc = await timed(apiPost, 16);
  results.post_create = {
    sequential: { raw_insert: rawSeq, api: apiSeq, ratio_api_to_raw_throughput: Math.round((apiSeq.per_second / rawSeq.per_second) * 1000) / 1000, ratio_api_to_raw_cpu: Math.round((apiSeq.server_and_db_cpu_ms_per_op / rawSeq.server_and_db_cpu_ms_per_op) * 10) / 10 },
    concurrent_16: { raw_insert: rawConc, api: apiConc, ratio_api_to_raw_throughput: Math.round((apiConc.per_second / rawConc.per_second) * 1000) / 1000, ratio_api_to_raw_cpu: Math.round((apiConc.server_and_db_cpu_ms_per_op / rawConc.server_and_db_cpu_ms_per_op) * 10) / 10 },
  };
  console.log('post creation vs raw INSERT', JSON.stringify(results.post_create, null, 1));
  for (const c of rawClients) await c.end();
  await owner.end();
  results.server_rss_mib = Math.round(server.rssMiB());
} finally {
  await server.stop();
}
writeResults('messaging', results);
