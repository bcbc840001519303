import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { asSuperuser, lastRecord } from './helpers.ts';

describe('POST /api/v4/audits/verify', () => {
  let app: TestApp;
  let auditor: TestUser;
  let officer: TestUser;
  before(async () => {
    app = await bootApp();
    auditor = await makeUser(app, { roles: 'system_user auditor' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    for (let i = 0; i < 3; i++) await request(app, 'POST', '/api/v4/users/login', { body: { login_id: officer.user.username, password: `wrong-password-${i}` } });
  });
  after(async () => app.close());

  const verify = (token?: string) => request(app, 'POST', '/api/v4/audits/verify', { token, body: {} });

  it('refuses the unauthenticated (401) and users without read_audits (403), and records the denial', async () => {
    expect((await verify()).status).to.equal(401);
    const denied = await verify(officer.token);
    expect(denied.status).to.equal(403);
    expect(denied.json).to.include({ id: 'api.context.permissions.app_error', status_code: 403 });
    const record = await lastRecord(app, 'verify_audit_log');
    expect(record).to.include({ status: 'fail' });
    expect(record.actor.user_id).to.equal(officer.user.id);
  });

  it('says the chain is intact, including what was committed just before, and audits the verification', async () => {
    const res = await verify(auditor.token);
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ ok: true, first: null });
    expect(res.json.records).to.be.greaterThan(3);
    expect(res.json.findings).to.deep.equal([]);
    const record = await lastRecord(app, 'verify_audit_log');
    expect(record).to.include({ status: 'success' });
    expect(record.event.resulting_state).to.include({ intact: true, first_bad_seq: null });
  });

  it('names the first modified record when a superuser rewrote one', async () => {
    await app.services.audit.flush();
    const target = await app.ownerDb('audit_log').where({ event_name: 'login' }).orderBy('seq').first('seq', 'record');
    const forged = JSON.parse(target.record);
    forged.actor.ip_address = '203.0.113.9';
    await asSuperuser(app.ownerDb, (trx) => trx('audit_log').where({ seq: target.seq }).update({ record: JSON.stringify(forged) }));
    const res = await verify(auditor.token);
    expect(res.status).to.equal(200);
    expect(res.json.ok).to.equal(false);
    expect(res.json.first).to.include({ seq: Number(target.seq), reason: 'modified' });
  });
});
