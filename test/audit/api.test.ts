import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { lastRecord } from './helpers.ts';

describe('GET /api/v4/audits', () => {
  let app: TestApp;
  let auditor: TestUser;
  let someone: TestUser;
  before(async () => {
    app = await bootApp();
    auditor = await makeUser(app, { roles: 'system_user auditor' });
    someone = await makeUser(app);
    // A few events to read: failed sign-ins by someone.
    for (let i = 0; i < 3; i++) await request(app, 'POST', '/api/v4/users/login', { body: { login_id: someone.user.username, password: `wrong-password-${i}` } });
  });
  after(async () => app.close());

  it('refuses the unauthenticated (401) and users without read_audits (403), and records the denial', async () => {
    expect((await request(app, 'GET', '/api/v4/audits')).status).to.equal(401);
    expect(await statusOf(() => client4(app, someone.token).getAudits())).to.equal(403);
    const denied = await lastRecord(app, 'get_audits');
    expect(denied).to.include({ status: 'fail' });
    expect(denied.actor.user_id).to.equal(someone.user.id);
  });

  it('refuses bad filters (400)', async () => {
    expect((await request(app, 'GET', '/api/v4/audits?per_page=0', { token: auditor.token })).status).to.equal(400);
    expect((await request(app, 'GET', '/api/v4/audits?user_id=nope', { token: auditor.token })).status).to.equal(400);
  });

  it("answers auditors through Client4 in Mattermost's shape, newest first, and records the read", async () => {
    const audits = (await client4(app, auditor.token).getAudits(0, 5)) as unknown as Record<string, unknown>[];
    expect(audits).to.have.length.within(1, 5);
    const first = audits[0];
    for (const field of ['id', 'create_at', 'user_id', 'action', 'extra_info', 'ip_address', 'session_id', 'seq', 'hash', 'record']) expect(first).to.have.property(field);
    const seqs = audits.map((a) => a.seq as number);
    expect(seqs).to.deep.equal([...seqs].sort((a, b) => b - a));
    const read = await lastRecord(app, 'get_audits');
    expect(read).to.include({ status: 'success' });
    expect(read.actor.user_id).to.equal(auditor.user.id);
    expect(read.event.parameters).to.include({ page: 0, per_page: 5 });
  });

  it('lets a system admin filter by event, status, user and time, and page', async () => {
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    const since = Date.now() - 60_000;
    const res = await request(app, 'GET', `/api/v4/audits?event_name=login&status=fail&since=${since}&until=${Date.now() + 1000}&per_page=2`, { token: admin.token });
    expect(res.status).to.equal(200);
    expect(res.json).to.have.length(2);
    for (const a of res.json) expect(a.record).to.include({ event_name: 'login', status: 'fail' });
    const next = await request(app, 'GET', '/api/v4/audits?event_name=login&status=fail&per_page=2&page=1', { token: admin.token });
    expect(next.json.map((a: { seq: number }) => a.seq)).to.not.include.members(res.json.map((a: { seq: number }) => a.seq));
    const mine = await request(app, 'GET', `/api/v4/audits?user_id=${auditor.user.id}`, { token: admin.token });
    expect(mine.json.length).to.be.greaterThan(0);
    for (const a of mine.json) expect(a.user_id).to.equal(auditor.user.id);
  });

  it('exports every matching record as CSV and as JSON Lines', async () => {
    const csv = await request(app, 'GET', '/api/v4/audits?format=csv&event_name=login', { token: auditor.token });
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).to.match(/^seq,id,timestamp,event_name,status,user_id/);
    expect(rows.length - 1).to.equal(3);
    const jsonl = await request(app, 'GET', '/api/v4/audits?format=jsonl', { token: auditor.token });
    expect(jsonl.headers.get('content-type')).to.equal('application/x-ndjson');
    const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record.seq)).to.deep.equal(lines.map((_, i) => i + 1));
    for (const l of lines) expect(l.hash).to.match(/^[0-9a-f]{64}$/);
  });
});
