import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { BASE_DN, PASSWORD, SERVICE_DN, SERVICE_PASSWORD } from './directory-fixture.ts';
import { auditRecords, captureLogs, freePort } from './helpers.ts';
import { startInProcessLdap, type TestDirectory } from './ldap-servers.ts';

const ldapEnv = (url: string, bindPassword = SERVICE_PASSWORD) => ({
  CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: url, CUSTODIAN_LDAP_BASE_DN: BASE_DN,
  CUSTODIAN_LDAP_BIND_DN: SERVICE_DN, CUSTODIAN_LDAP_BIND_PASSWORD: bindPassword,
  CUSTODIAN_LDAP_USER_FILTER: '(objectClass=inetOrgPerson)', CUSTODIAN_LDAP_GROUP_FILTER: '(objectClass=groupOfNames)',
  CUSTODIAN_LDAP_SYNC_INTERVAL_MINUTES: '0', CUSTODIAN_LDAP_TIMEOUT_SECONDS: '5',
});

describe('LDAP server unreachable: explained 503s, failed sync runs with the reason', () => {
  let app: TestApp;
  let admin: TestUser;
  let url: string;
  let logs: ReturnType<typeof captureLogs>;

  before(async function () {
    this.timeout(60_000);
    // A free port nothing listens on: connections are refused.
    url = `ldap://127.0.0.1:${await freePort()}`;
    app = await bootApp(ldapEnv(url));
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    logs = captureLogs(app);
  });
  after(async () => app?.close());
  beforeEach(() => logs.clear());

  it('answers a directory sign-in with a 503 in Mattermost error JSON, without telling the client where the directory is', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'alice', password: PASSWORD } });
    expect(res.status, res.text).to.equal(503);
    expect(res.json).to.include({ id: 'api.ldap.unavailable.app_error', status_code: 503 });
    expect(res.json.message).to.match(/directory server \(LDAP\) cannot be reached/);
    expect(res.text).to.not.include(url.split('//')[1]);
    const refusals = await auditRecords(app, 'sso_login_refused');
    expect(refusals.some((r) => r.status === 'fail' && /directory unavailable: .*cannot be reached .*ECONNREFUSED/.test(r.error.description ?? '')), 'the reason is audited').to.equal(true);
  });

  it('does not count an unreachable directory as a failed password (no lockout)', async () => {
    for (let i = 0; i < 12; i++) expect((await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'bob', password: PASSWORD } })).status).to.equal(503);
  });

  it('still signs local accounts in', async () => {
    const local = await makeUser(app);
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: local.user.username, password: local.password } });
    expect(res.status, res.text).to.equal(200);
  });

  it('answers POST /ldap/sync with a 503 naming the reason, and records the run as failed with it', async () => {
    const res = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
    expect(res.status, res.text).to.equal(503);
    expect(res.json.id).to.equal('api.ldap.unavailable.app_error');
    expect(res.json.message).to.include(url).and.match(/ECONNREFUSED/);
    const run = await app.ownerDb('identity_sync_runs').where({ source: 'ldap' }).orderBy('start_at', 'desc').first();
    expect(run).to.include({ status: 'error', trigger: 'manual' });
    expect(run.error).to.include(url).and.match(/ECONNREFUSED/);
    expect(Number(run.finish_at)).to.be.above(0);
    const audited = await auditRecords(app, 'directory_sync');
    expect(audited.some((r) => r.status === 'fail' && /ECONNREFUSED/.test(r.error.description ?? ''))).to.equal(true);
    // The lease was released: the next attempt is tried again, not refused as "already running".
    expect((await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token })).status).to.equal(503);
  });

  it('records a scheduled sync that cannot reach the directory as failed, with the reason', async () => {
    const result = await app.services.identity.ldap!.sync('scheduled');
    expect(result.status).to.equal('error');
    expect(result.error).to.match(/cannot be reached .*ECONNREFUSED/);
    expect(await app.ownerDb('identity_sync_runs').where({ id: result.id, status: 'error', trigger: 'scheduled' }).first()).to.not.equal(undefined);
  });

  it('answers the directory group endpoints with a 503 too', async () => {
    for (const [method, path] of [['GET', '/api/v4/ldap/groups'], ['POST', '/api/v4/ldap/groups/some-group/link']]) {
      const res = await request(app, method, path, { token: admin.token });
      expect(res.status, `${method} ${path}: ${res.text}`).to.equal(503);
      expect(res.json.id).to.equal('api.ldap.unavailable.app_error');
    }
  });
});

describe('LDAP service account refused by the directory: explained 503s', () => {
  let directory: TestDirectory;
  let app: TestApp;
  let admin: TestUser;

  before(async function () {
    this.timeout(60_000);
    directory = await startInProcessLdap();
    app = await bootApp(ldapEnv(directory.url, 'not-the-service-password'));
    admin = await makeUser(app, { roles: 'system_user system_admin' });
  });
  after(async () => {
    await app?.close();
    await directory?.stop();
  });

  it('says which setting to check when a sync cannot bind as the service account', async () => {
    const res = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
    expect(res.status, res.text).to.equal(503);
    expect(res.json.message).to.match(/refused the service account \(check the bind DN and password\)/);
    const run = await app.ownerDb('identity_sync_runs').where({ source: 'ldap' }).orderBy('start_at', 'desc').first();
    expect(run).to.include({ status: 'error' });
    expect(run.error).to.match(/refused the service account/);
  });

  it('answers sign-in with a 503, not as if the user had typed a wrong password', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'alice', password: PASSWORD } });
    expect(res.status, res.text).to.equal(503);
    expect(res.json.id).to.equal('api.ldap.unavailable.app_error');
  });
});
