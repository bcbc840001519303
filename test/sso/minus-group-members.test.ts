import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

/**
 * GET /teams/{id}/members_minus_group_members and GET /channels/{id}/members_minus_group_members: the
 * members who would leave if the team or channel were constrained to `group_ids`, in Mattermost's
 * UsersWithGroupsAndCount, for those who manage groups.
 */
describe('members minus group members (who a group constraint would remove)', function () {
  this.timeout(60_000);
  let app: TestApp;
  let admin: TestUser;
  let manager: TestUser;
  let teamAdmin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let team: { id: string };
  let channel: { id: string };
  let traders: string;
  let quants: string;
  let archived: string;

  const get = (path: string, token: string) => request(app, 'GET', path, { token });
  const makeGroup = async (name: string, members: TestUser[], deleteAt = 0) => {
    const id = newId();
    await app.ownerDb('groups').insert({ id, source: 'ldap', remote_id: `${name}-${id}`, display_name: name, create_at: Date.now(), update_at: Date.now(), delete_at: deleteAt });
    for (const u of members) await app.ownerDb('group_members').insert({ group_id: id, user_id: u.user.id, create_at: Date.now() });
    return id;
  };

  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    manager = await makeUser(app, { roles: 'system_user system_user_manager' });
    teamAdmin = await makeUser(app);
    // Usernames sort as alice < bob < carol, whatever the generated suffix.
    alice = await makeUser(app, { username: `a${newId().slice(0, 10)}` });
    bob = await makeUser(app, { username: `b${newId().slice(0, 10)}` });
    carol = await makeUser(app, { username: `c${newId().slice(0, 10)}` });
    const bot = await makeUser(app);
    await app.ownerDb('users').where({ id: bot.user.id }).update({ is_bot: true });
    const gone = await makeUser(app);
    await app.ownerDb('users').where({ id: gone.user.id }).update({ delete_at: Date.now() });
    const members = [alice.user, bob.user, carol.user, bot.user, gone.user];
    team = await makeTeam(app.ownerDb, { members, admins: [teamAdmin.user] });
    channel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user, carol.user, bot.user, teamAdmin.user] });
    traders = await makeGroup('Traders', [alice, teamAdmin]);
    quants = await makeGroup('Quants', [bob, teamAdmin]);
    archived = await makeGroup('Old desk', [carol], Date.now());
  });
  after(async () => app?.close());

  const usernames = (json: { users: { username: string }[] }) => json.users.map((u) => u.username);

  it('lists the team members outside the groups, with their groups and scheme roles, by username (Client4)', async () => {
    const res = await client4(app, admin.token).teamMembersMinusGroupMembers(team.id, [traders], 0, 60);
    expect(res.total_count).to.equal(2);
    expect(res.users.map((u) => u.id), 'bots, deactivated users and group members are left out').to.deep.equal([bob.user.id, carol.user.id]);
    const [b, c] = res.users;
    expect(b.groups.map((g) => g.id), 'the groups bob is in').to.deep.equal([quants]);
    expect(b).to.include({ scheme_user: true, scheme_admin: false, scheme_guest: false, username: bob.user.username });
    expect(c.groups, 'an archived group is no group').to.deep.equal([]);
    expect(b).to.not.have.property('password_hash');
  });

  it('treats every listed group as keeping its members, and pages with the full total', async () => {
    const both = await get(`/api/v4/teams/${team.id}/members_minus_group_members?group_ids=${traders},${quants}`, manager.token);
    expect(both.status, both.text).to.equal(200);
    expect(both.json.users.map((u: { id: string }) => u.id)).to.deep.equal([carol.user.id]);
    const page0 = await get(`/api/v4/teams/${team.id}/members_minus_group_members?group_ids=${archived}&page=0&per_page=2`, manager.token);
    const page1 = await get(`/api/v4/teams/${team.id}/members_minus_group_members?group_ids=${archived}&page=1&per_page=2`, manager.token);
    expect(page0.json.total_count, 'alice, bob, carol and the team admin').to.equal(4);
    expect(page1.json.total_count).to.equal(4);
    expect([...usernames(page0.json), ...usernames(page1.json)]).to.have.length(4);
    expect(usernames(page0.json)).to.not.include.members(usernames(page1.json));
  });

  it('lists the channel members outside the groups (Client4)', async () => {
    const res = await client4(app, manager.token).channelMembersMinusGroupMembers(channel.id, [quants], 0, 60);
    expect(res.users.map((u) => u.id)).to.deep.equal([alice.user.id, carol.user.id]);
    expect(res.total_count).to.equal(2);
    expect(res.users[0].groups.map((g) => g.id)).to.deep.equal([traders]);
  });

  it('refuses those who do not manage groups, team and channel admins included (403)', async () => {
    for (const token of [alice.token, teamAdmin.token]) {
      for (const path of [`/api/v4/teams/${team.id}/members_minus_group_members?group_ids=${traders}`, `/api/v4/channels/${channel.id}/members_minus_group_members?group_ids=${traders}`]) {
        const res = await get(path, token);
        expect(res.status, path).to.equal(403);
        expect(res.json.id).to.equal('api.context.permissions.app_error');
      }
    }
    expect(await statusOf(() => client4(app).teamMembersMinusGroupMembers(team.id, [traders], 0, 60)), 'no session').to.equal(401);
  });

  for (const [what, query] of [
    ['no group_ids', ''], ['an empty group_ids', 'group_ids='], ['a malformed id', 'group_ids=traders'],
    ['an id list with a bad entry', `group_ids=${'a'.repeat(26)},x`], ['a negative page', `group_ids=${'a'.repeat(26)}&page=-1`], ['per_page above 200', `group_ids=${'a'.repeat(26)}&per_page=201`],
  ]) {
    it(`answers ${what} with a 400 in Mattermost's error shape`, async () => {
      const res = await get(`/api/v4/teams/${team.id}/members_minus_group_members?${query}`, admin.token);
      expect(res.status, res.text).to.equal(400);
      expect(res.json).to.include({ id: 'api.context.invalid_param.app_error', status_code: 400 });
    });
  }

  it('answers an unknown team or channel with a 404', async () => {
    const team404 = await get(`/api/v4/teams/${newId()}/members_minus_group_members?group_ids=${traders}`, admin.token);
    expect(team404.status).to.equal(404);
    expect(team404.json.id).to.equal('app.team.get.find.app_error');
    const channel404 = await get(`/api/v4/channels/${newId()}/members_minus_group_members?group_ids=${traders}`, admin.token);
    expect(channel404.status).to.equal(404);
  });
});
