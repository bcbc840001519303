import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { BASE_DN, dnOf, groupDn, PASSWORD, SERVICE_DN, SERVICE_PASSWORD } from './directory-fixture.ts';
import { auditRecords } from './helpers.ts';
import { slapdAvailable, startInProcessLdap, startSlapd, type TestDirectory } from './ldap-servers.ts';

/**
 * Mattermost's rule for teams and channels that are not group-constrained: someone an admin removed
 * stays removed through later sign-ins and syncs, until the directory puts them in a linked group again.
 * Group-constrained ones keep exactly the groups' members. Driven by real LDAP sync and sign-in.
 */
describe(`group sync keeps manual removals (LDAP against ${slapdAvailable ? 'OpenLDAP slapd' : 'in-process ldapjs'})`, function () {
  this.timeout(60_000);
  let directory: TestDirectory;
  let app: TestApp;
  let admin: TestUser;
  let team: { id: string };
  let channel: { id: string };
  let engineeringId: string;
  let bobId: string;
  let aliceId: string;

  const api = (method: string, path: string, body?: unknown) => request(app, method, path, { token: admin.token, body });
  const sync = async () => {
    const res = await api('POST', '/api/v4/ldap/sync');
    expect(res.json.run?.status, res.text).to.equal('success');
  };
  const login = async (loginId: string) => expect((await request(app, 'POST', '/api/v4/users/login', { body: { login_id: loginId, password: PASSWORD } })).status).to.equal(200);
  const inTeam = async (teamId: string, userId: string) => Boolean(await app.ownerDb('team_members').where({ team_id: teamId, user_id: userId, delete_at: 0 }).first());
  const inChannel = async (channelId: string, userId: string) => Boolean(await app.ownerDb('channel_members').where({ channel_id: channelId, user_id: userId }).first());
  const link = async (type: 'teams' | 'channels', id: string) => expect((await api('POST', `/api/v4/groups/${engineeringId}/${type}/${id}/link`, { auto_add: true })).status).to.equal(201);

  before(async () => {
    directory = await (slapdAvailable ? startSlapd() : startInProcessLdap());
    app = await bootApp({
      CUSTODIAN_LDAP_ENABLE: 'true', CUSTODIAN_LDAP_URL: directory.url, CUSTODIAN_LDAP_BASE_DN: BASE_DN,
      CUSTODIAN_LDAP_BIND_DN: SERVICE_DN, CUSTODIAN_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
      CUSTODIAN_LDAP_USER_FILTER: '(objectClass=inetOrgPerson)', CUSTODIAN_LDAP_GROUP_FILTER: '(objectClass=groupOfNames)',
      CUSTODIAN_LDAP_SYNC_INTERVAL_MINUTES: '0',
    });
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    team = await makeTeam(app.ownerDb);
    channel = await makeChannel(app.ownerDb, team.id, { type: 'P' });
    await sync();
    engineeringId = (await app.ownerDb('groups').where({ source: 'ldap', display_name: 'engineering' }).first('id')).id;
    bobId = (await app.ownerDb('users').where({ username: 'bob' }).first('id')).id;
    aliceId = (await app.ownerDb('users').where({ username: 'alice' }).first('id')).id;
    await link('teams', team.id);
    await link('channels', channel.id);
  });
  after(async () => {
    await app?.close();
    await directory?.stop();
  });

  it('adds the linked group\'s members to the team and channel to begin with', async () => {
    expect(await inTeam(team.id, bobId)).to.equal(true);
    expect(await inChannel(channel.id, bobId)).to.equal(true);
  });

  it('does not put back in the channel someone an admin removed, at sign-in or at sync', async () => {
    const res = await api('DELETE', `/api/v4/channels/${channel.id}/members/${bobId}`);
    expect(res.status, res.text).to.equal(200);
    await login('bob');
    await sync();
    expect(await inChannel(channel.id, bobId), 'removed from the channel').to.equal(false);
    expect(await inTeam(team.id, bobId), 'still in the team').to.equal(true);
    expect(await inChannel(channel.id, aliceId), 'the other group members stay').to.equal(true);
  });

  it('does not put back in the team someone an admin removed, nor through a channel of that team linked later', async () => {
    const res = await api('DELETE', `/api/v4/teams/${team.id}/members/${bobId}`);
    expect(res.status, res.text).to.equal(200);
    const later = await makeChannel(app.ownerDb, team.id, { type: 'O' });
    await link('channels', later.id);
    await login('bob');
    await sync();
    expect(await inTeam(team.id, bobId), 'removed from the team').to.equal(false);
    expect(await inChannel(later.id, bobId), 'a channel link does not bring them back into the team').to.equal(false);
    expect(await inChannel(later.id, aliceId), 'that link works for the others').to.equal(true);
  });

  it('adds them again once the directory puts them back in the group, and audits it', async () => {
    await directory.removeMember(groupDn('engineering'), dnOf('bob'));
    await sync();
    expect(await app.ownerDb('group_members').where({ group_id: engineeringId, user_id: bobId, delete_at: 0 }).first()).to.equal(undefined);
    await directory.addMember(groupDn('engineering'), dnOf('bob'));
    await login('bob');
    expect(await inTeam(team.id, bobId), 'back in the team').to.equal(true);
    expect(await inChannel(channel.id, bobId), 'back in the channel').to.equal(true);
    const added = (await auditRecords(app, 'group_sync_added_to_team')).filter((r) => r.actor.user_id === bobId && r.event.parameters.teamId === team.id);
    expect(added, 'the first addition and the re-addition').to.have.length(2);
  });

  it('keeps a group-constrained channel\'s members equal to the group\'s: someone who leaves it comes back', async () => {
    const constrained = await makeChannel(app.ownerDb, team.id, { type: 'P' });
    await link('channels', constrained.id);
    expect((await api('PUT', `/api/v4/groups/syncables/channels/${constrained.id}/constrained`, { group_constrained: true })).status).to.equal(200);
    const alice = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'alice', password: PASSWORD } });
    const left = await request(app, 'DELETE', `/api/v4/channels/${constrained.id}/members/${aliceId}`, { token: alice.headers.get('token')! });
    expect(left.status, left.text).to.equal(200);
    expect(await inChannel(constrained.id, aliceId)).to.equal(false);
    await sync();
    expect(await inChannel(constrained.id, aliceId)).to.equal(true);
  });
});
