import { expect } from 'chai';
import { recordAudit } from '../../audit/index.ts';
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

  it('finds records by the fields of their own text, control characters and all', async () => {
    // A user name or parameter with control characters is stored as \u escapes in the canonical text;
    // the filter columns still come from that text, whichever way PostgreSQL has to parse it.
    const plain = await makeUser(app);
    const odd = await makeUser(app);
    const at = Date.now() - 5_000;
    await recordAudit(app.services.db, { event_name: 'filter_probe', status: 'attempt', actor: { user_id: plain.user.id }, meta: {}, event: { object_type: 'probe', parameters: { note: 'plain' } }, timestamp: at });
    await recordAudit(app.services.db, { event_name: 'filter_probe', status: 'fail', actor: { user_id: odd.user.id }, meta: {}, event: { object_type: 'probe', parameters: { note: 'nul \u0000 bell \u0007 \ud83d\ude00 end' } }, timestamp: at + 1 });
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    const find = async (query: string) => (await request(app, 'GET', `/api/v4/audits?${query}`, { token: admin.token })).json as { user_id: string; create_at: number; record: { status: string; event: { parameters: { note: string } } } }[];
    const fails = await find(`event_name=filter_probe&status=fail&user_id=${odd.user.id}&since=${at + 1}&until=${at + 1}`);
    expect(fails).to.have.length(1);
    // PostgreSQL cannot read a JSON NUL as text: it is recorded as U+FFFD, the rest as it was.
    expect(fails[0].record.event.parameters.note).to.equal('nul \ufffd bell \u0007 \ud83d\ude00 end');
    expect(fails[0].create_at).to.equal(at + 1);
    const attempts = await find(`event_name=filter_probe&status=attempt&user_id=${plain.user.id}`);
    expect(attempts.map((a) => a.user_id)).to.deep.equal([plain.user.id]);
    expect(await find(`event_name=filter_probe&user_id=${plain.user.id}&since=${at + 1}`)).to.have.length(0);
    // A NUL escape queued around recordAudit does not stop the sealer: the record is chained and
    // verifies, and what comes after it is sealed too.
    await app.services.db.raw('INSERT INTO audit_outbox (record) VALUES (?)', [`{"actor":{"user_id":"${odd.user.id}"},"event":{"parameters":{"raw":"\\u0000"}},"event_name":"filter_probe","status":"fail","timestamp":${at}}`]);
    await recordAudit(app.services.db, { event_name: 'filter_probe', status: 'success', actor: { user_id: plain.user.id }, meta: {}, timestamp: at + 2 });
    expect((await find(`event_name=filter_probe&status=success&user_id=${plain.user.id}`)).map((a) => a.create_at)).to.deep.equal([at + 2]);
    const verified = await request(app, 'POST', '/api/v4/audits/verify', { token: admin.token });
    expect(verified.json).to.include({ ok: true });
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
