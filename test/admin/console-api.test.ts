// The server endpoints the system console reads besides the Mattermost ones it shares with other
// clients: user search, the SSO configuration, migrations, every channel, team restore and the
// directory sync status.
import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

/** The enclosing describe's server, booted with `env` before its tests and closed after them. */
function serverFor(env: Record<string, string>): { app: TestApp } {
  const booted = {} as { app: TestApp };
  before(async () => {
    booted.app = await bootApp(env);
  });
  after(async () => {
    await booted.app?.close();
  });
  return booted;
}

describe('system console API', () => {
  const booted = serverFor({
    CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_SERVICE: 'gitlab', CUSTODIAN_OIDC_ISSUER: 'https://id.example.com/realms/corp',
    CUSTODIAN_OIDC_CLIENT_ID: 'custodian-web', CUSTODIAN_OIDC_CLIENT_SECRET: 'client-secret-never-shown',
  });
  let app: TestApp;
  let admin: TestUser;
  let manager: TestUser;
  let member: TestUser;

  before(async () => {
    app = booted.app;
    admin = await makeUser(app, { roles: 'system_user system_admin', username: 'root-admin' });
    manager = await makeUser(app, { roles: 'system_user system_user_manager', username: 'people-manager' });
    member = await makeUser(app, { username: 'plain-member' });
  });

  describe('POST /users/search', () => {
    const search = (who: TestUser, body: unknown) => request(app, 'POST', '/api/v4/users/search', { token: who.token, body });

    it('matches name prefixes, leaves deactivated users out unless asked, and treats % and _ literally', async () => {
      const carol = await makeUser(app, { username: 'carol_finance' });
      await app.ownerDb('users').where({ id: carol.user.id }).update({ first_name: 'Caroline', last_name: 'Ng' });
      const gone = await makeUser(app, { username: 'carl-left' });
      await app.ownerDb('users').where({ id: gone.user.id }).update({ delete_at: Date.now() });

      const res = await search(admin, { term: '@car' });
      expect(res.status, res.text).to.equal(200);
      expect(res.json.map((u: { username: string }) => u.username)).to.deep.equal(['carol_finance']);
      const withInactive = await search(admin, { term: 'car', allow_inactive: true });
      expect(withInactive.json.map((u: { username: string }) => u.username)).to.deep.equal(['carl-left', 'carol_finance']);
      expect((await search(admin, { term: 'caroline' })).json).to.have.length(1);
      expect((await search(admin, { term: 'car%' })).json).to.deep.equal([]);
      expect((await search(admin, { term: 'carol\\_' })).json).to.deep.equal([]);
      expect((await search(admin, { term: 'carol_' })).json).to.have.length(1);
    });

    it('searches emails only for those who manage users', async () => {
      const dana = await makeUser(app, { username: 'dana' });
      await app.ownerDb('users').where({ id: dana.user.id }).update({ email: 'zulu-mailbox@example.com' });
      expect((await search(manager, { term: 'zulu' })).json.map((u: { id: string }) => u.id)).to.deep.equal([dana.user.id]);
      expect((await search(member, { term: 'zulu' })).json).to.deep.equal([]);
    });

    it('answers bad input with a 400 in Mattermost’s error shape', async () => {
      const res = await search(admin, { term: 'x'.repeat(65) });
      expect(res.status).to.equal(400);
      expect(res.json).to.include.keys('id', 'message', 'status_code');
      expect((await search(admin, { term: 'a', limit: 0 })).status).to.equal(400);
      expect((await request(app, 'POST', '/api/v4/users/search', { body: { term: 'a' } })).status).to.equal(401);
    });
  });

  describe('GET /config', () => {
    it('gives system admins the SSO sections, with no secret in them', async () => {
      const res = await request(app, 'GET', '/api/v4/config', { token: admin.token });
      expect(res.status, res.text).to.equal(200);
      expect(res.json.SamlSettings).to.include({ Enable: false });
      expect(res.json.LdapSettings).to.include({ Enable: false });
      expect(res.json.GitLabSettings).to.deep.equal({
        Enable: true, Id: 'custodian-web', DiscoveryEndpoint: 'https://id.example.com/realms/corp/.well-known/openid-configuration', Scope: 'openid profile email',
      });
      expect(res.json.OpenIdSettings).to.deep.equal({ Enable: false });
      expect(res.text).not.to.include('client-secret-never-shown');
    });

    it('is refused to everyone else', async () => {
      expect((await request(app, 'GET', '/api/v4/config', { token: manager.token })).status).to.equal(403);
      expect((await request(app, 'GET', '/api/v4/config', { token: member.token })).status).to.equal(403);
    });
  });

  it('GET /system/migrations gives the schema version (the newest migration applied) for system admins only', async () => {
    const res = await request(app, 'GET', '/api/v4/system/migrations', { token: admin.token });
    expect(res.status, res.text).to.equal(200);
    const newest = (await app.ownerDb('schema_migrations').orderBy('id', 'desc').first('name')).name;
    expect(res.json.schema_version).to.equal(newest);
    expect(res.json.migrations.some((m: string) => m.startsWith('20261122000302_identity_sync'))).to.equal(true);
    expect(res.json.migrations.at(-1)).to.equal(newest);
    expect((await request(app, 'GET', '/api/v4/system/migrations', { token: manager.token })).status).to.equal(403);
  });

  describe('teams and channels', () => {
    it('archives a team, lists it for admins who ask, and restores it', async () => {
      const team = await makeTeam(app.ownerDb, { members: [member.user] });
      expect((await request(app, 'DELETE', `/api/v4/teams/${team.id}`, { token: admin.token })).status).to.equal(200);
      const listed = async (who: TestUser, query: string) =>
        ((await request(app, 'GET', `/api/v4/teams?per_page=200${query}`, { token: who.token })).json as { id: string; delete_at: number }[]).find((t) => t.id === team.id);
      expect(await listed(admin, '')).to.equal(undefined);
      expect((await listed(admin, '&include_deleted=true'))?.delete_at).to.be.greaterThan(0);
      expect(await listed(member, '&include_deleted=true'), 'only system admins see archived teams').to.equal(undefined);

      expect((await request(app, 'POST', `/api/v4/teams/${team.id}/restore`, { token: member.token })).status).to.equal(404);
      const restored = await request(app, 'POST', `/api/v4/teams/${team.id}/restore`, { token: admin.token });
      expect(restored.status, restored.text).to.equal(200);
      expect(restored.json).to.include({ id: team.id, delete_at: 0 });
      expect((await listed(member, ''))?.delete_at).to.equal(0);
      expect((await request(app, 'POST', '/api/v4/teams/not-an-id/restore', { token: admin.token })).status).to.equal(400);
    });

    it('GET /channels lists public and private channels of every team with their team, archived ones on request', async () => {
      const team = await makeTeam(app.ownerDb);
      const open = await makeChannel(app.ownerDb, team.id);
      const secret = await makeChannel(app.ownerDb, team.id, { type: 'P' });
      const archived = await makeChannel(app.ownerDb, team.id);
      await app.ownerDb('channels').where({ id: archived.id }).update({ delete_at: Date.now() });

      const res = await request(app, 'GET', `/api/v4/channels?team_id=${team.id}`, { token: admin.token });
      expect(res.status, res.text).to.equal(200);
      expect(res.json.map((c: { id: string }) => c.id).sort()).to.deep.equal([open.id, secret.id].sort());
      expect(res.json[0]).to.include({ team_name: team.name, team_display_name: team.name });
      const all = await request(app, 'GET', `/api/v4/channels?team_id=${team.id}&include_deleted=true`, { token: admin.token });
      expect(all.json).to.have.length(3);
      expect((await request(app, 'GET', '/api/v4/channels', { token: manager.token })).status).to.equal(403);
      expect((await request(app, 'GET', '/api/v4/channels?per_page=5000', { token: admin.token })).status).to.equal(400);
    });
  });

  it('GET /ldap/sync/status is a 404 while LDAP is off', async () => {
    const res = await request(app, 'GET', '/api/v4/ldap/sync/status', { token: admin.token });
    expect(res.status).to.equal(404);
    expect(res.json.id).to.equal('api.ldap.not_enabled.app_error');
  });
});

describe('system console API with LDAP on', () => {
  // Nothing listens on port 9 of the loopback: every sync fails at once, with the reason recorded.
  const booted = serverFor({
    CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: 'ldap://127.0.0.1:9', CUSTODIAN_LDAP_BASE_DN: 'dc=example,dc=com',
    CUSTODIAN_LDAP_BIND_DN: 'cn=svc,dc=example,dc=com', CUSTODIAN_LDAP_BIND_PASSWORD: 'bind-password-never-shown',
    CUSTODIAN_LDAP_SYNC_INTERVAL_MINUTES: '0', CUSTODIAN_LDAP_TIMEOUT_SECONDS: '2',
  });
  let app: TestApp;
  let admin: TestUser;

  before(async () => {
    app = booted.app;
    admin = await makeUser(app, { roles: 'system_user system_admin' });
  });

  it('reports the last sync runs with their result and error, newest first', async () => {
    const empty = await request(app, 'GET', '/api/v4/ldap/sync/status', { token: admin.token });
    expect(empty.status, empty.text).to.equal(200);
    expect(empty.json).to.deep.equal({ running: false, last_success_at: 0, sync_interval_minutes: 0, runs: [] });

    // An unreachable directory fails the run (a 200 with the failed run, or a 503 naming the reason).
    const sync = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
    expect(sync.status, sync.text).to.be.oneOf([200, 503]);

    const res = await request(app, 'GET', '/api/v4/ldap/sync/status', { token: admin.token });
    expect(res.json.running).to.equal(false);
    expect(res.json.runs).to.have.length(1);
    expect(res.json.runs[0]).to.include({ trigger: 'manual', status: 'error' });
    expect(res.json.runs[0].error).to.be.a('string').and.not.equal('');
    expect(res.json.runs[0].finish_at).to.be.at.least(res.json.runs[0].start_at);

    const config = await request(app, 'GET', '/api/v4/config', { token: admin.token });
    expect(config.json.LdapSettings).to.include({ Enable: true, EnableSync: false, LdapServer: '127.0.0.1', LdapPort: 9, ConnectionSecurity: '' });
    expect(config.text).not.to.include('bind-password-never-shown');
  });

  it('is for those who may sync the directory', async () => {
    const manager = await makeUser(app, { roles: 'system_user system_user_manager' });
    expect((await request(app, 'GET', '/api/v4/ldap/sync/status', { token: manager.token })).status).to.equal(403);
  });
});
