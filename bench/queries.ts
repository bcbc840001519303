// Database round trips per request for the endpoints the load model uses most: every statement a
// request sends is one write to PostgreSQL's socket and one wake-up of a backend, which the load
// test's CPU profile shows as the largest single cost. Run: node bench/queries.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../server/config/load.ts';
import { createLogger } from '../server/lib/logger.ts';
import { startServer } from '../server/runtime.ts';
import { seedSessions } from './lib/sessions.ts';
import { writeResults } from './lib/stats.ts';
import { seedWorld } from './lib/world.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-queries-'));
fs.chmodSync(dataDir, 0o755);
const config = loadConfig({ CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_PORT: '0', CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1', CUSTODIAN_LOG_LEVEL: 'warn' });
const server = await startServer({ config, logger: createLogger(config.logLevel) });
const owner = { host: path.join(dataDir, 'run'), port: 5432, user: 'custodian_owner', password: fs.readFileSync(path.join(dataDir, 'secrets', 'db-owner-password'), 'utf8').trim(), database: 'custodian' };
const statements: string[] = [];
server.services.db.on('query', (q: { sql: string }) => statements.push(q.sql));
const results: Record<string, { statements: number; sql: string[] }> = {};
try {
  const world = await seedWorld(owner, { users: 200, teams: 2, posts: 20_000, log: () => undefined });
  const [token] = await seedSessions(owner, world.userIds.slice(0, 1));
  const me = world.userIds[0];
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(server.url + urlPath, { method, headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${urlPath}: ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const teams = (await call('GET', '/api/v4/users/me/teams')) as { id: string }[];
  const channels = (await call('GET', `/api/v4/users/me/teams/${teams[0].id}/channels`)) as { id: string; name: string }[];
  const channel = channels.find((c) => c.name !== 'town-square')!;
  const page = (await call('GET', `/api/v4/channels/${channel.id}/posts?per_page=30`)) as { order: string[]; posts: Record<string, { user_id: string }> };
  const authors = [...new Set(page.order.map((id) => page.posts[id].user_id))];
  const measure = async (name: string, method: string, urlPath: string, body?: unknown) => {
    await call(method, urlPath, body); // warm: session, access and page caches as a busy server has them
    statements.length = 0;
    await call(method, urlPath, body);
    await new Promise((r) => setTimeout(r, 50)); // statements issued after the response (activity touches)
    results[name] = { statements: statements.length, sql: statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 160)) };
  };
  await measure('GET /users/me', 'GET', '/api/v4/users/me');
  await measure('GET /users/:id/teams', 'GET', '/api/v4/users/me/teams');
  await measure('GET /users/:id/teams/:id/channels', 'GET', `/api/v4/users/me/teams/${teams[0].id}/channels`);
  await measure('GET /users/:id/teams/:id/channels/members', 'GET', `/api/v4/users/me/teams/${teams[0].id}/channels/members`);
  await measure('POST /channels/members/:id/view', 'POST', '/api/v4/channels/members/me/view', { channel_id: channel.id });
  await measure('GET /channels/:id/posts', 'GET', `/api/v4/channels/${channel.id}/posts?page=0&per_page=30`);
  await measure('POST /users/ids', 'POST', '/api/v4/users/ids', authors);
  await measure('GET /channels/:id/stats', 'GET', `/api/v4/channels/${channel.id}/stats`);
  await measure('GET /users/:id/channels/:id/unread', 'GET', `/api/v4/users/me/channels/${channel.id}/unread`);
  await measure('GET /posts/:id/thread', 'GET', `/api/v4/posts/${page.order[0]}/thread`);
  // Writes are measured once each (not idempotent), after a warm-up of the same kind.
  await call('POST', '/api/v4/posts', { channel_id: channel.id, message: 'warm-up' });
  statements.length = 0;
  const post = await call('POST', '/api/v4/posts', { channel_id: channel.id, message: 'counted' });
  await new Promise((r) => setTimeout(r, 50));
  results['POST /posts'] = { statements: statements.length, sql: statements.map((s) => s.replace(/\s+/g, ' ').slice(0, 160)) };
  await measure('POST /reactions', 'POST', '/api/v4/reactions', { user_id: me, post_id: post.id, emoji_name: 'smile' });
  await measure('POST /channels/direct', 'POST', '/api/v4/channels/direct', [me, world.userIds[1]]);
  for (const [name, r] of Object.entries(results)) {
    console.log(`${String(r.statements).padStart(3)}  ${name}`);
    for (const sql of r.sql) console.log(`       ${sql}`);
  }
  writeResults('queries', { statements_per_request: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.statements])), detail: results });
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
