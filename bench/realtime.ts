// Real-time benchmarks (issue: messaging core). Run: npm run bench:realtime -- [--members 1000] [--sockets 10000]
// Figures: post → `posted` delivered to every member of a 1,000-member channel (p99 over receivers and
// posts: 200 posts, so that one post slowed by the host, 1,000 samples, cannot make the p99 alone), beside a bare `ws` broadcast of the same frame in the same run; server RSS holding N
// authenticated idle WebSockets.
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { seed } from './lib/seed.ts';
import { seedSessions } from './lib/sessions.ts';
import { startBenchServer } from './lib/server.ts';
import { machine, summarize, writeResults } from './lib/stats.ts';

const { values } = parseArgs({ options: { members: { type: 'string', default: '1000' }, sockets: { type: 'string', default: '10000' }, posts: { type: 'string', default: '200' }, warmup: { type: 'string', default: '5' }, profile: { type: 'boolean', default: false } } });
const members = Number(values.members);
const socketCount = Number(values.sockets);
const postCount = Number(values.posts);
// Fan-outs sent first and not counted, on both sides: a long-running server's code paths are compiled
// by the JIT; the very first posts of a fresh process took 60-100 ms of it.
const warmup = Number(values.warmup);
const results: Record<string, unknown> = { machine: machine(), members, sockets: socketCount };

/** The bare broadcaster: a plain ws server that says hello and sends each frame it is given to every client. */
const bareServerSource = `
const { parentPort } = require('node:worker_threads');
const { WebSocketServer } = require(${JSON.stringify(new URL('../node_modules/ws/index.js', import.meta.url).pathname)});
const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
server.on('listening', () => parentPort.postMessage({ port: server.address().port }));
server.on('connection', (ws) => ws.send('{"event":"hello"}'));
parentPort.on('message', (frame) => { for (const client of server.clients) client.send(frame); });
`;

/** Opens `tokens.length` sockets (bounded concurrency) and resolves when each has received hello. */
async function openSockets(url: string, tokens: string[], onMessage?: (i: number, data: string) => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(tokens.length);
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++;
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${tokens[i]}` }, perMessageDeflate: false });
        sockets[i] = ws;
        ws.once('error', reject);
        ws.on('message', (data) => {
          const text = data.toString();
          if (text.includes('"hello"')) resolve();
          onMessage?.(i, text);
        });
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return sockets;
}

const server = await startBenchServer(values.profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${new URL('./results', import.meta.url).pathname}` } : {});
try {
  const userCount = Math.max(members, socketCount);
  const seeded = await seed(server.owner(), { users: userCount, channels: 1, posts: 0, membersPerChannel: members });
  const tokens = await seedSessions(server.owner(), seeded.userIds);
  const wsUrl = server.url.replace('http', 'ws') + '/api/v4/websocket';
  const channelId = seeded.channelIds[0];

  // Fan-out: one member posts; every member's socket must receive `posted`. Receivers live in two
  // worker threads so their own event loops do not become the measured bottleneck.
  const received = new Map<string, number[]>();
  const workers = [0, 1].map((w) => {
    const share = tokens.slice(0, members).filter((_, i) => i % 2 === w);
    return new Worker(new URL('./lib/receivers.ts', import.meta.url), { workerData: { url: wsUrl, tokens: share } });
  });
  await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg: { ready?: boolean; arrivals?: [string, number][] }) => {
      if (msg.ready) resolve();
      for (const [id, at] of msg.arrivals ?? []) (received.get(id) ?? received.set(id, []).get(id)!).push(at);
    });
  })));
  const clock = () => performance.timeOrigin + performance.now();
  const latencies: number[] = [];
  const perPostP99: number[] = [];
  const responded: number[] = [];
  const firstDelivery: number[] = [];
  for (let p = -warmup; p < postCount; p++) {
    const sent = clock();
    const res = await fetch(`${server.url}/api/v4/posts`, { method: 'POST', headers: { Authorization: `Bearer ${tokens[0]}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ channel_id: channelId, message: `fan-out ${p} `.padEnd(120, 'x') }) });
    const post = (await res.json()) as { id: string };
    responded.push(clock() - sent);
    const deadline = Date.now() + 10_000;
    while ((received.get(post.id)?.length ?? 0) < members && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    const times = (received.get(post.id) ?? []).map((t) => t - sent);
    await new Promise((r) => setTimeout(r, 200));
    if (p < 0) continue;
    latencies.push(...times);
    perPostP99.push(summarize(times).p99);
    firstDelivery.push(Math.min(...times));
    if (times.length < members) console.log(`post ${p}: only ${times.length}/${members} sockets received it`);
  }
  results.fanout_breakdown = { post_http_response: summarize(responded), first_socket: summarize(firstDelivery), per_post_p99: perPostP99.map((v) => Math.round(v)) };
  console.log('breakdown', JSON.stringify(results.fanout_breakdown));
  results.fanout_post_to_posted = { ...summarize(latencies), target: 'p99 <= 50 ms to 1,000 members', delivered: latencies.length, expected: members * postCount };
  console.log('post -> posted at each of', members, 'members', results.fanout_post_to_posted);
  await Promise.all(workers.map((w) => w.terminate()));


  // The raw limit: a bare ws server broadcasting a frame of the same size to the same number of
  // sockets, measured the same way: the server on its own event loop (a worker thread here, a process
  // above), the same two receiver threads, the same kind of frame (a post id inside the post's JSON).
  const bare = new Worker(bareServerSource, { eval: true });
  const barePort = await new Promise<number>((resolve, reject) => {
    bare.once('error', reject);
    bare.once('message', (msg: { port: number }) => resolve(msg.port));
  });
  const bareReceived = new Map<string, number[]>();
  const bareWorkers = [0, 1].map((w) => new Worker(new URL('./lib/receivers.ts', import.meta.url), { workerData: { url: `ws://127.0.0.1:${barePort}`, tokens: tokens.slice(0, members).filter((_, i) => i % 2 === w) } }));
  await Promise.all(bareWorkers.map((worker) => new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (msg: { ready?: boolean; arrivals?: [string, number][] }) => {
      if (msg.ready) resolve();
      for (const [id, at] of msg.arrivals ?? []) (bareReceived.get(id) ?? bareReceived.set(id, []).get(id)!).push(at);
    });
  })));
  const bareLatencies: number[] = [];
  for (let p = -warmup; p < postCount; p++) {
    const id = `bare${String(p + warmup).padStart(22, '0')}`;
    const frame = JSON.stringify({ event: 'posted', data: { post: JSON.stringify({ id, message: 'x'.repeat(560) }) }, seq: p + warmup + 1 });
    const sent = clock();
    bare.postMessage(frame);
    const deadline = Date.now() + 10_000;
    while ((bareReceived.get(id)?.length ?? 0) < members && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    if (p >= 0) bareLatencies.push(...(bareReceived.get(id) ?? []).map((t) => t - sent));
    await new Promise((r) => setTimeout(r, 200));
  }
  results.bare_ws_broadcast = summarize(bareLatencies);
  results.fanout_ratio_p99_to_bare = Math.round(((results.fanout_post_to_posted as { p99: number }).p99 / (results.bare_ws_broadcast as { p99: number }).p99) * 100) / 100;
  console.log('bare ws broadcast of a same-size frame', results.bare_ws_broadcast);
  await Promise.all([...bareWorkers, bare].map((w) => w.terminate()));

  // Memory: N authenticated idle sockets held by one server process.
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = server.rssMiB();
  const idle = await openSockets(wsUrl, tokens.slice(0, socketCount));
  await new Promise((r) => setTimeout(r, 3000));
  const rssAfter = server.rssMiB();
  results.idle_sockets = { count: idle.length, server_rss_mib_before: Math.round(rssBefore), server_rss_mib_with_sockets: Math.round(rssAfter), target: '< 1024 MiB' };
  console.log('idle sockets', results.idle_sockets);
  for (const s of idle) s.terminate();
} finally {
  await server.stop();
}
writeResults('realtime', results);
