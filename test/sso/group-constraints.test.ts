import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

/**
 * Group-constrained teams and channels follow Mattermost: people cannot add someone outside the linked
 * groups (400 *.add_members.user_denied) nor remove anyone else (400 *.remove_member.group_constrained);
 * members may leave, bots may be removed, and group sync keeps adding and removing members.
 */
describe('group-constrained teams and channels: manual membership changes', function () {
  this.timeout(60_000);
  let app: TestApp;
  let admin: TestUser;
  let teamAdmin: TestUser;
  let insider: TestUser;
  let outsider: TestUser;
  let team: { id: string };
  let channel: { id: string };
  let groupId: string;

  const api = (method: string, path: string, token: string, body?: unknown) => request(app, method, path, { token, body });
  const isTeamMember = async (teamId: string, userId: string) => Boolean(await app.ownerDb('team_members').where({ team_id: teamId, user_id: userId, delete_at: 0 }).first());
  const isChannelMember = async (channelId: string, userId: string) => Boolean(await app.ownerDb('channel_members').where({ channel_id: channelId, user_id: userId }).first());

  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    teamAdmin = await makeUser(app);
    insider = await makeUser(app);
    outsider = await makeUser(app);
    team = await makeTeam(app.ownerDb, { admins: [teamAdmin.user] });
    channel = await makeChannel(app.ownerDb, team.id, { type: 'O', members: [teamAdmin.user] });
    groupId = newId();
    await app.ownerDb('groups').insert({ id: groupId, source: 'ldap', remote_id: `constrained-${groupId}`, display_name: 'Traders', create_at: Date.now(), update_at: Date.now() });
    // The team admin is in the group too: making the team constrained removes everyone outside it.
    for (const u of [insider, teamAdmin]) await app.ownerDb('group_members').insert({ group_id: groupId, user_id: u.user.id, create_at: Date.now() });
    // Linked without auto-add, so that membership is left to people, within the groups' bounds.
    for (const [type, id] of [['teams', team.id], ['channels', channel.id]]) {
      expect((await api('POST', `/api/v4/groups/${groupId}/${type}/${id}/link`, admin.token, { auto_add: false })).status).to.equal(201);
      expect((await api('PUT', `/api/v4/groups/syncables/${type}/${id}/constrained`, admin.token, { group_constrained: true })).status).to.equal(200);
    }
  });
  after(async () => app?.close());

  it('refuses to add a user outside the linked groups to the team (400 api.team.add_members.user_denied)', async () => {
    const res = await api('POST', `/api/v4/teams/${team.id}/members`, teamAdmin.token, { team_id: team.id, user_id: outsider.user.id });
    expect(res.status, res.text).to.equal(400);
    expect(res.json).to.include({ id: 'api.team.add_members.user_denied', status_code: 400 });
    expect(await isTeamMember(team.id, outsider.user.id)).to.equal(false);
  });

  it('refuses a system admin too: the groups decide, not the role', async () => {
    const res = await api('POST', `/api/v4/teams/${team.id}/members`, admin.token, { team_id: team.id, user_id: outsider.user.id });
    expect(res.status).to.equal(400);
    expect(res.json.id).to.equal('api.team.add_members.user_denied');
  });

  it('adds a member of a linked group', async () => {
    const res = await api('POST', `/api/v4/teams/${team.id}/members`, teamAdmin.token, { team_id: team.id, user_id: insider.user.id });
    expect(res.status, res.text).to.equal(201);
    expect(await isTeamMember(team.id, insider.user.id)).to.equal(true);
  });

  it('refuses to add a team member outside the linked groups to the channel, and refuses their own join', async () => {
    await app.ownerDb('team_members').insert({ team_id: team.id, user_id: outsider.user.id, create_at: Date.now(), scheme_user: true });
    const added = await api('POST', `/api/v4/channels/${channel.id}/members`, teamAdmin.token, { user_id: outsider.user.id });
    expect(added.status, added.text).to.equal(400);
    expect(added.json.id).to.equal('api.channel.add_members.user_denied');
    expect(added.json.message).to.include(outsider.user.id);
    const joined = await api('POST', `/api/v4/channels/${channel.id}/members`, outsider.token, { user_id: outsider.user.id });
    expect(joined.status).to.equal(400);
    expect(await isChannelMember(channel.id, outsider.user.id)).to.equal(false);
    const batch = await api('POST', `/api/v4/channels/${channel.id}/members`, teamAdmin.token, { user_ids: [insider.user.id, outsider.user.id] });
    expect(batch.status, 'one outsider in a batch refuses the batch').to.equal(400);
    expect(await isChannelMember(channel.id, insider.user.id)).to.equal(false);
  });

  it('adds a linked group member to the channel', async () => {
    const res = await api('POST', `/api/v4/channels/${channel.id}/members`, teamAdmin.token, { user_id: insider.user.id });
    expect(res.status, res.text).to.equal(201);
    expect(await isChannelMember(channel.id, insider.user.id)).to.equal(true);
  });

  it('refuses to remove another member from the constrained channel or team', async () => {
    const fromChannel = await api('DELETE', `/api/v4/channels/${channel.id}/members/${insider.user.id}`, teamAdmin.token);
    expect(fromChannel.status, fromChannel.text).to.equal(400);
    expect(fromChannel.json.id).to.equal('api.channel.remove_member.group_constrained.app_error');
    expect(await isChannelMember(channel.id, insider.user.id)).to.equal(true);
    const fromTeam = await api('DELETE', `/api/v4/teams/${team.id}/members/${insider.user.id}`, admin.token);
    expect(fromTeam.status, fromTeam.text).to.equal(400);
    expect(fromTeam.json.id).to.equal('api.team.remove_member.group_constrained.app_error');
    expect(await isTeamMember(team.id, insider.user.id)).to.equal(true);
  });

  it('lets a member leave the constrained channel and team themselves', async () => {
    expect((await api('DELETE', `/api/v4/channels/${channel.id}/members/${insider.user.id}`, insider.token)).status).to.equal(200);
    expect(await isChannelMember(channel.id, insider.user.id)).to.equal(false);
    expect((await api('DELETE', `/api/v4/teams/${team.id}/members/${insider.user.id}`, insider.token)).status).to.equal(200);
    expect(await isTeamMember(team.id, insider.user.id)).to.equal(false);
  });

  it('lets a bot be removed', async () => {
    const bot = await makeUser(app);
    await app.ownerDb('users').where({ id: bot.user.id }).update({ is_bot: true });
    await app.ownerDb('team_members').insert({ team_id: team.id, user_id: bot.user.id, create_at: Date.now(), scheme_user: true });
    const res = await api('DELETE', `/api/v4/teams/${team.id}/members/${bot.user.id}`, teamAdmin.token);
    expect(res.status, res.text).to.equal(200);
  });

  it('leaves teams and channels that are not group-constrained alone', async () => {
    const open = await makeTeam(app.ownerDb, { admins: [teamAdmin.user] });
    const res = await api('POST', `/api/v4/teams/${open.id}/members`, teamAdmin.token, { team_id: open.id, user_id: outsider.user.id });
    expect(res.status, res.text).to.equal(201);
    expect((await api('DELETE', `/api/v4/teams/${open.id}/members/${outsider.user.id}`, teamAdmin.token)).status).to.equal(200);
  });
});
