import { expect } from 'chai';
import { apiRouters } from '../../server/api/index.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

const unknownId = 'zzzzzzzzzzzzzzzzzzzzzzzzzz';

/** Every [method, path] the API serves, read from the routers themselves so new endpoints are covered. */
function allRoutes(app: TestApp): [string, string][] {
  const routes: [string, string][] = [];
  for (const router of apiRouters(app.services)) {
    for (const layer of router.stack) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) routes.push([method, `/api/v4${layer.path}`]);
    }
  }
  return routes;
}

function fill(path: string, value: string): string {
  return path.replace(/:[a-z_]+/g, value);
}

describe('bad input never yields a 500 or a partial write', () => {
  let app: TestApp;
  let admin: TestUser;
  let channelId: string;
  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    const team = await makeTeam(app.ownerDb, { members: [admin.user] });
    channelId = (await makeChannel(app.ownerDb, team.id, { members: [admin.user] })).id;
  });
  after(async () => app.close());

  const hostileBodies: [string, string | Buffer, string][] = [
    ['malformed JSON', '{"channel_id": ', 'application/json'],
    ['a JSON array of numbers', '[1, 2, 3]', 'application/json'],
    ['wrong types', '{"channel_id": 5, "message": {"a": 1}, "user_id": [], "name": null, "team_id": true}', 'application/json'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json'],
    ['a NUL character in a string', '{"message": "a\\u0000b", "name": "x\\u0000", "display_name": "\\u0000", "channel_id": "' + 'a'.repeat(26) + '"}', 'application/json'],
    ['XML', '<x/>', 'application/xml'],
  ];

  it('answers every endpoint × hostile body × unknown/malformed ids with a 4xx error JSON', async function () {
    this.timeout(120_000);
    // Its own admin, so nothing the sweep does to its session affects the other tests.
    const sweeper = await makeUser(app, { roles: 'system_user system_admin' });
    const failures: string[] = [];
    for (const [method, path] of allRoutes(app).filter(([, p]) => p !== '/api/v4/users/logout')) {
      for (const idValue of [unknownId, 'not-an-id', '%00']) {
        const bodies = method === 'GET' || method === 'DELETE' ? [['no body', '', 'application/json'] as const] : hostileBodies;
        for (const [label, body, type] of bodies) {
          const res = await request(app, method, fill(path, idValue), { token: sweeper.token, raw: body || undefined, headers: { 'Content-Type': type } });
          const shapeOk = res.json && typeof res.json.id === 'string' && res.json.status_code === res.status && typeof res.json.request_id === 'string';
          // A 401 would mean the sweep lost its session and stopped exercising the handlers.
          if (res.status >= 500 || res.status === 401 || (res.status >= 400 && !shapeOk)) failures.push(`${method} ${fill(path, idValue)} with ${label} → ${res.status} ${res.text.slice(0, 120)}`);
        }
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('refuses a message one character over 16,383 and stores nothing; accepts exactly 16,383', async () => {
    const tooLong = await request(app, 'POST', '/api/v4/posts', { token: admin.token, body: { channel_id: channelId, message: '€'.repeat(16384) } });
    expect(tooLong.status).to.equal(400);
    expect(await app.ownerDb('posts').where({ channel_id: channelId })).to.have.length(0);
    const channel = await app.ownerDb('channels').where({ id: channelId }).first();
    expect(channel.total_msg_count, 'channel counters untouched').to.equal(0);
    const fits = await request(app, 'POST', '/api/v4/posts', { token: admin.token, body: { channel_id: channelId, message: '€'.repeat(16383) } });
    expect(fits.status).to.equal(201);
  });

  it('refuses a reply to a post of another channel without writing anything', async () => {
    const team = await makeTeam(app.ownerDb, { members: [admin.user] });
    const other = await makeChannel(app.ownerDb, team.id, { members: [admin.user] });
    const root = await request(app, 'POST', '/api/v4/posts', { token: admin.token, body: { channel_id: other.id, message: 'root' } });
    const reply = await request(app, 'POST', '/api/v4/posts', { token: admin.token, body: { channel_id: channelId, message: 'cross', root_id: root.json.id } });
    expect(reply.status).to.equal(400);
    expect(await app.ownerDb('posts').where({ root_id: root.json.id })).to.have.length(0);
  });

  it('answers an unauthenticated request with 401 error JSON', async () => {
    const res = await request(app, 'GET', '/api/v4/users/me');
    expect(res.status).to.equal(401);
    expect(res.json.id).to.equal('api.context.session_expired.app_error');
  });

  it('demands the CSRF token for cookie-authenticated writes', async () => {
    const login = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: admin.user.username, password: admin.password } });
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]);
    const cookie = cookies.join('; ');
    const csrf = cookies.find((c) => c.startsWith('MMCSRF='))!.split('=')[1];
    const forged = await request(app, 'POST', '/api/v4/posts', { headers: { Cookie: cookie }, body: { channel_id: channelId, message: 'csrf' } });
    expect(forged.status).to.equal(401);
    const honest = await request(app, 'POST', '/api/v4/posts', { headers: { Cookie: cookie, 'X-CSRF-Token': csrf }, body: { channel_id: channelId, message: 'csrf ok' } });
    expect(honest.status).to.equal(201);
    const reads = await request(app, 'GET', '/api/v4/users/me', { headers: { Cookie: cookie } });
    expect(reads.status, 'reads need no CSRF token').to.equal(200);
  });
});
