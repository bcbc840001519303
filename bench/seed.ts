// Data generator: seeds a scratch server with users, teams, channels and posts at COPY speed and
// reports how long each step took and how big the database became.
// Run: npm run bench:seed -- --posts 1000000 [--users 10000] [--teams 10] [--keep]
import { parseArgs } from 'node:util';
import { startBenchServer } from './lib/server.ts';
import { machine, writeResults } from './lib/stats.ts';
import { seedWorld } from './lib/world.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    users: { type: 'string', default: '10000' },
    teams: { type: 'string', default: '10' },
    'channels-per-team': { type: 'string', default: '60' },
    keep: { type: 'boolean', default: false },
  },
});

const server = await startBenchServer();
const started = performance.now();
try {
  const world = await seedWorld(server.owner(), { posts: Number(values.posts), users: Number(values.users), teams: Number(values.teams), channelsPerTeam: Number(values['channels-per-team']) });
  const total = (performance.now() - started) / 1000;
  const results = {
    machine: machine(),
    users: world.userIds.length,
    teams: world.teamIds.length,
    channels: world.channels,
    posts: world.posts,
    seconds: { ...world.seconds, total: Math.round(total * 10) / 10 },
    posts_per_second: Math.round(world.posts / ((world.seconds.posts ?? 0) + (world.seconds['post indexes'] ?? 0) || 1)),
    posts_table_gib_per_million: Math.round((world.bytes.posts_table / Math.max(1, world.posts)) * 1e6 / 2 ** 30 * 1000) / 1000,
    database_gib: Math.round((world.bytes.database / 2 ** 30) * 1000) / 1000,
  };
  console.log(JSON.stringify(results, null, 1));
  writeResults('seed', results);
  if (values.keep) {
    console.log(`kept: server ${server.url}, data dir ${server.dataDir}; press Ctrl-C to stop`);
    await new Promise((resolve) => process.once('SIGINT', resolve));
    await server.stop();
  }
} finally {
  if (!values.keep) await server.stop();
}
