// Storage benchmark (issue: messaging core, "database size <= 0.75 GB per million posts including
// indexes"). Seeds realistic posts with the posts table's indexes in place, in time order on one
// connection, so each index fills its pages as posts created one at a time do; reports bytes per post
// by heap, TOAST and index, then the same after REINDEX (what a bulk load or a rebuild packs it to).
// Run: npm run bench:storage -- [--posts 200000] [--users 1000]
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startBenchServer } from './lib/server.ts';
import { machine, writeResults } from './lib/stats.ts';
import { describeStorage, postsStorage } from './lib/storage.ts';
import type { PostsStorage } from './lib/storage.ts';
import { seedWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '200000' },
    users: { type: 'string', default: '1000' },
  },
});
const posts = Number(values.posts);
const server = await startBenchServer({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
const owner = new pg.Client(server.owner());
const results: Record<string, unknown> = { machine: machine(), load_average_at_start: os.loadavg(), posts, users: Number(values.users) };
try {
  await owner.connect();
  const world = await seedWorld(server.owner(), { posts, users: Number(values.users), days: 365, liveIndexes: true, log: (l) => console.log(l) });
  results.seed_seconds = world.seconds;
  const live: PostsStorage = await postsStorage(owner, posts);
  console.log('live-inserted: bytes per post', live.bytes_per_post);
  await owner.query('REINDEX TABLE posts');
  const packed: PostsStorage = await postsStorage(owner, posts);
  console.log('after REINDEX: bytes per post', packed.bytes_per_post);
  console.log(`live-inserted: ${describeStorage(live)}`);
  console.log(`after REINDEX: ${describeStorage(packed)}`);
  Object.assign(results, { live_inserted: live, after_reindex: packed });
  writeResults('storage', results);
} finally {
  await owner.end().catch(() => undefined);
  await server.stop();
}
