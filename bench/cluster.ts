// Two-node benchmark (issue: multi-node operation). Run: npm run bench:cluster -- [--posts 200]
// Two server processes share one PostgreSQL (node A's embedded cluster, reached by node B through
// DATABASE_URL over the Unix socket). A member listens on node A; another member posts on node B.
// Figure: post on B → `posted` on A's socket, p50/p99 (target: p99 <= 100 ms).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { seed } from './lib/seed.ts';
import { seedSessions } from './lib/sessions.ts';
import { startBenchServer } from './lib/server.ts';
import { machine, summarize, writeResults } from './lib/stats.ts';

const { values } = parseArgs({ options: { posts: { type: 'string', default: '200' } } });
const postCount = Number(values.posts);
const nodeA = await startBenchServer();
const owner = nodeA.owner();
const databaseUrl = `postgres://${owner.user}:${encodeURIComponent(String(owner.password))}@localhost/${owner.database}?host=${encodeURIComponent(String(owner.host))}`;
const nodeB = await startBenchServer({ DATABASE_URL: databaseUrl, CUSTODIAN_NODE_ID: 'node-b' }, (dir) => {
  // Nodes of one cluster share their signing keys (a shared keys volume in real deployments).
  fs.cpSync(path.join(nodeA.dataDir, 'keys'), path.join(dir, 'keys'), { recursive: true });
});
const results: Record<string, unknown> = { machine: machine(), posts: postCount };
try {
  const seeded = await seed(owner, { users: 2, channels: 1, posts: 0, membersPerChannel: 2 });
  const [listenerToken, posterToken] = await seedSessions(owner, seeded.userIds);
  const arrivals = new Map<string, number>();
  const ws = new WebSocket(nodeA.url.replace('http', 'ws') + '/api/v4/websocket', { headers: { Authorization: `Bearer ${listenerToken}` } });
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.includes('"hello"')) resolve();
      const id = /\\"id\\":\\"([a-z0-9]{26})\\"/.exec(text)?.[1];
      if (text.includes('"posted"') && id) arrivals.set(id, performance.now());
    });
  });
  const latencies: number[] = [];
  for (let i = 0; i < postCount; i++) {
    const sent = performance.now();
    const res = await fetch(`${nodeB.url}/api/v4/posts`, { method: 'POST', headers: { Authorization: `Bearer ${posterToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ channel_id: seeded.channelIds[0], message: `cross-node ${i}` }) });
    const { id } = (await res.json()) as { id: string };
    const deadline = Date.now() + 5000;
    while (!arrivals.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    latencies.push((arrivals.get(id) ?? Infinity) - sent);
    await new Promise((r) => setTimeout(r, 20));
  }
  ws.close();
  results.node_b_post_to_node_a_posted = { ...summarize(latencies), target: 'p99 <= 100 ms' };
  console.log('post on node B -> posted on node A (ms)', results.node_b_post_to_node_a_posted);
} finally {
  await nodeB.stop();
  await nodeA.stop();
}
writeResults('cluster', results);
