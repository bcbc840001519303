import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { Directory } from '../../sso/ldap/directory.ts';
import { escapeDnValue, escapeFilterValue } from '../../sso/ldap/escape.ts';
import { BASE_DN, dnOf, groupDn, PASSWORD, SERVICE_DN, SERVICE_PASSWORD } from './directory-fixture.ts';
import { auditRecords, captureLogs } from './helpers.ts';
import { slapdAvailable, startInProcessLdap, startSlapd, type TestDirectory } from './ldap-servers.ts';

describe('LDAP escaping (RFC 4515 filters, RFC 4514 DNs)', () => {
  it('escapes every filter metacharacter', () => {
    expect(escapeFilterValue('a*b(c)d\\e\u0000f')).to.equal('a\\2ab\\28c\\29d\\5ce\\00f');
    expect(escapeFilterValue('*)(uid=*')).to.equal('\\2a\\29\\28uid=\\2a');
  });
  it('escapes DN specials, leading space or # and a trailing space', () => {
    expect(escapeDnValue('Smith, John+Jr "x" <y>;z=1\\')).to.equal('Smith\\, John\\+Jr \\"x\\" \\<y\\>\\;z\\=1\\\\');
    expect(escapeDnValue('#admin ')).to.equal('\\#admin\\ ');
    expect(escapeDnValue(' lead')).to.equal('\\ lead');
  });
});

const backends: [string, () => Promise<TestDirectory>][] = [['in-process ldapjs', startInProcessLdap]];
if (slapdAvailable) backends.unshift(['OpenLDAP slapd', startSlapd]);
else console.log('    (slapd is not installed: the LDAP suite runs against the in-process server only; .ci/run installs slapd)');

for (const [name, start] of backends) {
  describe(`LDAP sign-in and directory sync against ${name}`, () => {
    let directory: TestDirectory;
    let app: TestApp;
    let admin: TestUser;
    let logs: ReturnType<typeof captureLogs>;
    let team: { id: string };
    let channel: { id: string };

    before(async function () {
      this.timeout(60_000);
      directory = await start();
      app = await bootApp({
        CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: directory.url, CUSTODIAN_LDAP_BASE_DN: BASE_DN,
        CUSTODIAN_LDAP_BIND_DN: SERVICE_DN, CUSTODIAN_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
        CUSTODIAN_LDAP_USER_FILTER: '(objectClass=inetOrgPerson)', CUSTODIAN_LDAP_GROUP_FILTER: '(objectClass=groupOfNames)',
        CUSTODIAN_LDAP_PAGE_SIZE: '2', CUSTODIAN_LDAP_SYNC_INTERVAL_MINUTES: '0',
      });
      admin = await makeUser(app, { roles: 'system_user system_admin' });
      logs = captureLogs(app);
      team = await makeTeam(app.ownerDb);
      channel = await makeChannel(app.ownerDb, team.id, { type: 'P' });
    });
    after(async () => {
      await app?.close();
      await directory?.stop();
    });
    beforeEach(() => logs.clear());

    const login = (loginId: string, password: string) => request(app, 'POST', '/api/v4/users/login', { body: { login_id: loginId, password } });

    it('syncs on demand: creates users, resolves nested groups, pages through results', async () => {
      const res = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
      expect(res.status, res.text).to.equal(200);
      expect(res.json.run).to.include({ status: 'success' });
      expect(res.json.run.counts).to.include({ users: 5, created: 5, deactivated: 0, groups: 4 });
      const alice = await app.ownerDb('users').where({ username: 'alice' }).first();
      expect(alice).to.include({ auth_service: 'ldap', email: 'alice@corp.test', first_name: 'Alice' });
      const groups = await app.ownerDb('group_members as gm').join('groups as g', 'g.id', 'gm.group_id').where({ 'gm.user_id': alice.id, 'gm.delete_at': 0 }).pluck('g.display_name');
      expect(groups.sort(), 'alice is in devs, so in engineering and staff too').to.deep.equal(['devs', 'engineering', 'staff']);
    });

    it('signs a directory user in by binding as them and issues the usual session', async () => {
      const res = await login('alice', PASSWORD);
      expect(res.status, res.text).to.equal(200);
      expect(res.headers.get('token')).to.be.a('string');
      expect(res.headers.getSetCookie().map((c) => c.split('=')[0])).to.include.members(['MMAUTHTOKEN', 'MMUSERID', 'MMCSRF']);
      expect(res.json).to.include({ username: 'alice', auth_service: 'ldap' });
      expect(logs.lines.some((l) => l.obj.event === 'sso_login' && l.obj.service === 'ldap')).to.equal(true);
    });

    it('refuses a wrong password, with the reason logged', async () => {
      const res = await login('alice', 'not-the-password');
      expect(res.status).to.equal(401);
      expect(logs.refusals().join()).to.match(/refused the password/);
    });

    it('refuses an empty password before binding (an unauthenticated bind would succeed)', async () => {
      const user = await app.services.identity.ldap!.login({ loginId: 'alice', password: '', ipAddress: '127.0.0.1' });
      expect(user).to.equal(undefined);
      expect(logs.refusals().join()).to.match(/empty password/);
      expect(await app.services.identity.ldap!.directory.verifyPassword(dnOf('alice'), '')).to.equal(false);
    });

    for (const injection of ['*', 'al*', 'alice)(uid=*', '*)(|(uid=*', 'alice\\2a', 'x)(objectClass=*)(uid=bob']) {
      it(`does not let the login id ${JSON.stringify(injection)} change the filter`, async () => {
        const res = await login(injection, PASSWORD);
        expect(res.status).to.equal(401);
        expect(logs.refusals().join()).to.match(/no single directory user/);
      });
    }

    it('joins linked teams and channels at login, and audits it', async () => {
      const engineering = await app.ownerDb('groups').where({ source: 'ldap', display_name: 'engineering' }).first();
      for (const [type, id] of [['teams', team.id], ['channels', channel.id]]) {
        const link = await request(app, 'POST', `/api/v4/groups/${engineering.id}/${type}/${id}/link`, { token: admin.token, body: { auto_add: true } });
        expect(link.status, link.text).to.equal(201);
      }
      // Linking applies to the group's current members at once (alice, bob, carol via devs).
      const carol = await app.ownerDb('users').where({ username: 'carol' }).first();
      expect(await app.ownerDb('channel_members').where({ channel_id: channel.id, user_id: carol.id }).first()).to.not.equal(undefined);
      expect(logs.lines.some((l) => l.obj.event === 'group_sync_added_to_channel' && l.obj.userId === carol.id)).to.equal(true);
      const constrain = await request(app, 'PUT', `/api/v4/groups/syncables/channels/${channel.id}/constrained`, { token: admin.token, body: { group_constrained: true } });
      expect(constrain.status).to.equal(200);
    });

    it('takes a user out of a group-constrained channel when the directory removes them from the group', async () => {
      await directory.removeMember(groupDn('devs'), dnOf('carol'));
      const carol = await app.ownerDb('users').where({ username: 'carol' }).first();
      // Applied at login, not only at the next sync.
      expect((await login('carol', PASSWORD)).status).to.equal(200);
      expect(await app.ownerDb('channel_members').where({ channel_id: channel.id, user_id: carol.id }).first()).to.equal(undefined);
      expect(logs.lines.some((l) => l.obj.event === 'group_sync_removed_from_channel' && l.obj.userId === carol.id)).to.equal(true);
      expect(logs.lines.some((l) => l.obj.event === 'group_member_removed' && l.obj.userId === carol.id)).to.equal(true);
      expect((await auditRecords(app, 'group_sync_removed_from_channel')).some((r) => r.actor.user_id === carol.id), 'removal in the audit log').to.equal(true);
      expect((await auditRecords(app, 'group_sync_added_to_channel')).some((r) => r.actor.user_id === carol.id), 'addition in the audit log').to.equal(true);
    });

    it('grants the roles a directory group carries, and takes them back with the group', async () => {
      const compliance = await app.ownerDb('groups').where({ source: 'ldap', display_name: 'compliance' }).first();
      const patch = await request(app, 'PUT', `/api/v4/groups/${compliance.id}/patch`, { token: admin.token, body: { roles: 'compliance_officer' } });
      expect(patch.status, patch.text).to.equal(200);
      const erin = await login('erin', PASSWORD);
      expect(erin.json.roles.split(' ')).to.include('compliance_officer');
      const token = erin.headers.get('token')!;
      expect((await request(app, 'GET', '/api/v4/users/me', { token })).json.roles).to.include('compliance_officer');
      await directory.removeMember(groupDn('compliance'), dnOf('erin'));
      await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
      expect((await request(app, 'GET', '/api/v4/users/me', { token })).json.roles).to.not.include('compliance_officer');
    });

    it('deactivates a user the directory no longer has, revoking their sessions', async () => {
      const dave = await login('dave', PASSWORD);
      const token = dave.headers.get('token')!;
      expect((await request(app, 'GET', '/api/v4/users/me', { token })).status).to.equal(200);
      await directory.deleteEntry(dnOf('dave'));
      const sync = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
      expect(sync.json.run.counts.deactivated).to.equal(1);
      expect((await request(app, 'GET', '/api/v4/users/me', { token })).status).to.equal(401);
      expect(Number((await app.ownerDb('users').where({ username: 'dave' }).first()).delete_at)).to.be.above(0);
      expect(await app.ownerDb('sessions').where({ user_id: dave.json.id })).to.have.length(0);
      expect(logs.lines.some((l) => l.obj.event === 'directory_user_deactivated')).to.equal(true);
      expect((await login('dave', PASSWORD)).status).to.equal(401);
    });

    it('refuses to deactivate everyone when a sync suddenly sees no users', async () => {
      const config = app.services.config as { ldapUserFilter: string };
      const saved = config.ldapUserFilter;
      config.ldapUserFilter = '(uid=nobody-has-this-uid)';
      try {
        const sync = await request(app, 'POST', '/api/v4/ldap/sync', { token: admin.token });
        expect(sync.json.run.status).to.equal('error');
        expect(sync.json.run.error).to.match(/no users; refusing to deactivate/);
        expect(await app.ownerDb('users').where({ auth_service: 'ldap', delete_at: 0 })).to.have.length(4);
      } finally {
        config.ldapUserFilter = saved;
      }
    });

    it('lets only those allowed run a sync or list directory groups', async () => {
      const plain = await makeUser(app);
      const manager = await makeUser(app, { roles: 'system_user system_user_manager' });
      expect((await request(app, 'POST', '/api/v4/ldap/sync', { token: plain.token })).status).to.equal(403);
      expect((await request(app, 'POST', '/api/v4/ldap/sync', { token: manager.token })).status).to.equal(403);
      const requests = await auditRecords(app, 'sync_ldap');
      expect(requests.filter((r) => r.status === 'fail').map((r) => r.actor.user_id), 'refused sync requests are audited').to.have.members([plain.user.id, manager.user.id]);
      expect(requests.some((r) => r.status === 'success' && r.actor.user_id === admin.user.id), 'and who ran one').to.equal(true);
      const groups = await request(app, 'GET', '/api/v4/ldap/groups', { token: manager.token });
      expect(groups.status).to.equal(200);
      expect(groups.json.count).to.equal(4);
    });

    it('links and unlinks a directory group by its remote id, audited, and refuses one the directory lacks', async () => {
      const listed = (await request(app, 'GET', '/api/v4/ldap/groups', { token: admin.token })).json.groups as { primary_key: string; name: string }[];
      const staff = listed.find((g) => g.name === 'staff')!;
      const path = `/api/v4/ldap/groups/${encodeURIComponent(staff.primary_key)}/link`;
      const unlinked = await request(app, 'DELETE', path, { token: admin.token });
      expect(unlinked.status, unlinked.text).to.equal(200);
      expect(Number((await app.ownerDb('groups').where({ source: 'ldap', remote_id: staff.primary_key }).first()).delete_at)).to.be.above(0);
      const linked = await request(app, 'POST', path, { token: admin.token });
      expect(linked.status, linked.text).to.equal(201);
      expect(linked.json).to.include({ display_name: 'staff', source: 'ldap', remote_id: staff.primary_key });
      expect((await auditRecords(app, 'unlink_ldap_group')).map((r) => r.status)).to.deep.equal(['success']);
      const links = await auditRecords(app, 'link_ldap_group');
      expect(links.map((r) => [r.status, r.actor.user_id, r.event.parameters.remote_id])).to.deep.equal([['success', admin.user.id, staff.primary_key]]);
      const missing = await request(app, 'POST', '/api/v4/ldap/groups/not-in-the-directory/link', { token: admin.token });
      expect(missing.status).to.equal(404);
      expect(missing.json.id).to.equal('api.ldap.group_not_found');
      expect((await auditRecords(app, 'link_ldap_group')).filter((r) => r.status === 'fail')).to.have.length(1);
    });
  });
}

if (slapdAvailable) {
  describe('LDAP transport security against slapd', () => {
    let directory: TestDirectory;
    before(async function () {
      this.timeout(30_000);
      directory = await startSlapd();
    });
    after(async () => directory?.stop());
    const directoryFor = (caFile: string | undefined, host = '127.0.0.1') => new Directory({
      ldapUrl: directory.url.replace('127.0.0.1', host), ldapStartTls: true, ldapCaFile: caFile, ldapBindDn: SERVICE_DN, ldapBindPassword: SERVICE_PASSWORD,
      ldapBaseDn: BASE_DN, ldapTimeoutSeconds: 5, ldapUserFilter: '(objectClass=inetOrgPerson)', ldapPageSize: 100,
    } as never);

    it('binds after StartTLS when the certificate chains to the configured CA and names the host', async () => {
      const found = await directoryFor(directory.caFile).asService(async (client) => client.search(BASE_DN, { filter: '(uid=alice)' }));
      expect(found.searchEntries).to.have.length(1);
    });
    it('refuses a directory certificate from another CA before sending any password', async () => {
      let error: unknown;
      await directoryFor(directory.otherCaFile).asService(async () => undefined).catch((err) => (error = err));
      expect(String(error)).to.match(/certificate|self.signed|unable to verify/i);
    });
  });
}
