// Database round trips per request for every endpoint the load model uses (bench/load/user.ts): every
// statement a request sends is one write to PostgreSQL's socket and one wake-up of a backend, which the
// load test's CPU profile shows as the largest single cost. Run: node bench/queries.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { sessionCache } from '../server/auth/session-cache.ts';
import { loadConfig } from '../server/config/load.ts';
import { createLogger } from '../server/lib/logger.ts';
import { startServer } from '../server/runtime.ts';
import { seedSessions } from './lib/sessions.ts';
import { writeResults } from './lib/stats.ts';
import { seedWorld } from './lib/world.ts';

// Each endpoint is counted this many times after a warm-up and the fewest statements kept: background
// work (audit sealing, relay flushes of earlier events) lands in some runs and is not the request's.
const RUNS = 5;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-queries-'));
fs.chmodSync(dataDir, 0o755);
const config = loadConfig({ CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_PORT: '0', CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1', CUSTODIAN_LOG_LEVEL: 'warn' });
const server = await startServer({ config, logger: createLogger(config.logLevel) });
const owner = { host: path.join(dataDir, 'run'), port: 5432, user: 'custodian_owner', password: fs.readFileSync(path.join(dataDir, 'secrets', 'db-owner-password'), 'utf8').trim(), database: 'custodian' };
const statements: string[] = [];
server.services.db.on('query', (q: { sql: string }) => statements.push(q.sql));
const results: Record<string, { statements: number; sql: string[] }> = {};
const settle = () => new Promise((r) => setTimeout(r, 50)); // statements issued after the response (activity touches, relay)
try {
  const world = await seedWorld(owner, { users: 200, teams: 2, posts: 20_000, log: () => undefined });
  const [token] = await seedSessions(owner, world.userIds.slice(0, 1));
  const me = world.userIds[0];
  const send = async (method: string, urlPath: string, body?: unknown, auth = token) => {
    const multipart = body instanceof FormData;
    const headers: Record<string, string> = auth ? { Authorization: `Bearer ${auth}` } : {};
    if (body && !multipart) headers['Content-Type'] = 'application/json';
    const res = await fetch(server.url + urlPath, { method, headers, body: multipart ? body : body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${urlPath}: ${res.status} ${text.slice(0, 200)}`);
    return { json: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const call = async (method: string, urlPath: string, body?: unknown) => (await send(method, urlPath, body)).json;
  /** Runs `request(0)` to warm up, then `request(1..RUNS)`, keeping the run with the fewest statements. */
  const count = async (name: string, request: (run: number) => Promise<unknown>, before?: () => void) => {
    await request(0);
    await settle();
    let best: string[] | undefined;
    for (let run = 1; run <= RUNS; run++) {
      before?.();
      statements.length = 0;
      await request(run);
      await settle();
      if (!best || statements.length < best.length) best = [...statements];
    }
    results[name] = { statements: best!.length, sql: best!.map((s) => s.replace(/\s+/g, ' ').trim().slice(0, 160)) };
  };
  const measure = (name: string, method: string, urlPath: string, body?: unknown) => count(name, () => call(method, urlPath, body));

  const teams = (await call('GET', '/api/v4/users/me/teams')) as { id: string }[];
  const team = teams[0].id;
  const channels = (await call('GET', `/api/v4/users/me/teams/${team}/channels`)) as { id: string; name: string }[];
  const channel = channels.find((c) => c.name !== 'town-square')!;
  const page = (await call('GET', `/api/v4/channels/${channel.id}/posts?per_page=30`)) as { order: string[]; posts: Record<string, { user_id: string }> };
  const authors = [...new Set(page.order.map((id) => page.posts[id].user_id))];

  // Initial load and the authentication every request pays when its session is not cached.
  await measure('GET /users/me', 'GET', '/api/v4/users/me');
  await count('GET /users/me (session not cached)', () => call('GET', '/api/v4/users/me'), () => sessionCache.forgetQuietly({ userId: me }));
  await measure('GET /users/:id/teams', 'GET', '/api/v4/users/me/teams');
  await measure('GET /users/:id/teams/:id/channels', 'GET', `/api/v4/users/me/teams/${team}/channels`);
  await measure('GET /users/:id/teams/:id/channels/members', 'GET', `/api/v4/users/me/teams/${team}/channels/members`);
  // switch_channel, scroll_channel, unread_check
  await measure('POST /channels/members/:id/view', 'POST', '/api/v4/channels/members/me/view', { channel_id: channel.id });
  await measure('GET /channels/:id/posts', 'GET', `/api/v4/channels/${channel.id}/posts?page=0&per_page=30`);
  await measure('GET /channels/:id/posts?before', 'GET', `/api/v4/channels/${channel.id}/posts?per_page=30&before=${page.order.at(-1)}`);
  await measure('POST /users/ids', 'POST', '/api/v4/users/ids', authors);
  await measure('GET /channels/:id/stats', 'GET', `/api/v4/channels/${channel.id}/stats`);
  await measure('GET /users/:id/channels/:id/unread', 'GET', `/api/v4/users/me/channels/${channel.id}/unread`);
  // The whole switch_channel action as bench/load/user.ts performs it, into a channel this session has
  // not opened yet (its access and page not cached): what one action costs beyond the warm figures.
  const unvisited = channels.filter((c) => c.id !== channel.id);
  let current = channel.id;
  await count('switch_channel (whole action, unvisited channel)', async (run) => {
    const next = unvisited[run].id;
    await call('POST', '/api/v4/channels/members/me/view', { channel_id: current });
    const p = (await call('GET', `/api/v4/channels/${next}/posts?page=0&per_page=30`)) as typeof page;
    await call('POST', '/api/v4/users/ids', [...new Set(p.order.map((id) => p.posts[id].user_id))]);
    await call('GET', `/api/v4/channels/${next}/stats`);
    await call('POST', '/api/v4/channels/members/me/view', { channel_id: next, prev_channel_id: '' });
    current = next;
  });
  // click_permalink, view_thread
  await measure('GET /posts/:id/thread', 'GET', `/api/v4/posts/${page.order[0]}/thread`);
  await measure('GET /channels/:id', 'GET', `/api/v4/channels/${channel.id}`);
  // search_users, search_channels, search_posts (mapped as in bench/load/user.ts)
  await measure('GET /users?in_team', 'GET', `/api/v4/users?in_team=${team}&page=0&per_page=25`);
  await measure('GET /teams/:id/channels', 'GET', `/api/v4/teams/${team}/channels?page=0&per_page=50`);
  await measure('POST /teams/:id/posts/search', 'POST', `/api/v4/teams/${team}/posts/search`, { terms: 'meeting notes', is_or_search: false, time_zone_offset: 0, page: 0, per_page: 20 });
  // Writes: each run writes something new.
  const own: string[] = [];
  await count('POST /posts', async (run) => own.push((await call('POST', '/api/v4/posts', { channel_id: channel.id, message: `counted ${run}` })).id));
  await count('POST /posts (reply)', () => call('POST', '/api/v4/posts', { channel_id: channel.id, message: 'a reply', root_id: page.order[0] }));
  await count('POST /files', () => {
    const form = new FormData();
    form.append('channel_id', channel.id);
    form.append('files', new Blob([Buffer.from('Meeting notes\n'.repeat(600))], { type: 'text/plain' }), 'notes.txt');
    return call('POST', '/api/v4/files', form);
  });
  const emojis = ['smile', 'tada', 'eyes', 'heart', 'rocket', 'wave', '+1'];
  await count('POST /reactions', (run) => call('POST', '/api/v4/reactions', { user_id: me, post_id: own[0], emoji_name: emojis[run] }));
  await count('PUT /posts/:id/patch', (run) => call('PUT', `/api/v4/posts/${own[0]}/patch`, { message: `edited ${run}` }));
  for (let i = 0; i <= RUNS; i++) own.push((await call('POST', '/api/v4/posts', { channel_id: channel.id, message: `to delete ${i}` })).id);
  await count('DELETE /posts/:id', () => call('DELETE', `/api/v4/posts/${own.pop()}`));
  await measure('POST /channels/direct (exists)', 'POST', '/api/v4/channels/direct', [me, world.userIds[1]]);
  await count('POST /channels/direct (new)', (run) => call('POST', '/api/v4/channels/direct', [me, world.userIds[10 + run]]));
  const open = ((await call('GET', `/api/v4/teams/${team}/channels?page=0&per_page=200`)) as { id: string }[]).filter((c) => !channels.some((m) => m.id === c.id));
  await count('POST /channels/:id/members (join)', (run) => call('POST', `/api/v4/channels/${open[run].id}/members`, { user_id: me }));
  // view_global_threads, update_thread_read (the caller follows the thread it replied to above)
  const threadsPath = `/api/v4/users/me/teams/${team}/threads`;
  await measure('GET /users/:id/teams/:id/threads', 'GET', `${threadsPath}?per_page=25&extended=false`);
  const followed = ((await call('GET', `${threadsPath}?per_page=1`)) as { threads: { id: string }[] }).threads[0];
  if (followed) await count('PUT /users/:id/teams/:id/threads/:id/read/:ts', () => call('PUT', `${threadsPath}/${followed.id}/read/${Date.now()}`));
  // upsert_draft, delete_draft
  await count('POST /drafts', (run) => call('POST', '/api/v4/drafts', { channel_id: channel.id, message: `draft ${run}` }));
  await count('DELETE /users/:id/channels/:id/drafts', async (run) => {
    await call('POST', '/api/v4/drafts', { channel_id: channel.id, message: `to delete ${run}` });
    await settle();
    statements.length = 0;
    await call('DELETE', `/api/v4/users/me/channels/${channel.id}/drafts`);
  });
  // logout_login (argon2 dominates; counted for completeness)
  const username = world.usernames[0];
  await count('POST /users/login', () => send('POST', '/api/v4/users/login', { login_id: username, password: world.password }, ''));
  await count('POST /users/logout', async () => {
    const login = await send('POST', '/api/v4/users/login', { login_id: username, password: world.password }, '');
    statements.length = 0;
    await send('POST', '/api/v4/users/logout', undefined, login.headers.get('token')!);
  });
  // Statuses are polled over the WebSocket every 60 s by every user.
  const socket = new WebSocket(server.url.replace(/^http/, 'ws') + '/api/v4/websocket', { headers: { Authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let seq = 1;
  const wsRequest = (action: string, data: unknown) =>
    new Promise<void>((resolve) => {
      const mine = seq++;
      const onMessage = (raw: Buffer) => {
        if (JSON.parse(raw.toString()).seq_reply === mine) {
          socket.off('message', onMessage);
          resolve();
        }
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ seq: mine, action, data }));
    });
  await count('WS get_statuses_by_ids', () => wsRequest('get_statuses_by_ids', { user_ids: authors }));
  socket.close();

  for (const [name, r] of Object.entries(results)) {
    console.log(`${String(r.statements).padStart(3)}  ${name}`);
    for (const sql of r.sql) console.log(`       ${sql}`);
  }
  writeResults('queries', { statements_per_request: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.statements])), detail: results });
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
