import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

/**
 * GET /groups with Mattermost's filters: custom groups apart from synced ones, mentionable ones only for
 * those who do not manage groups, groups not yet linked to a team or channel, archived ones, a user's.
 */
describe('GET /groups: filters and who sees what', function () {
  this.timeout(60_000);
  let app: TestApp;
  let admin: TestUser;
  let manager: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let guest: TestUser;
  let team: { id: string };
  let privateTeam: { id: string };
  let channel: { id: string };
  let privateChannel: { id: string };
  const ids: Record<string, string> = {};

  const list = async (token: string, query = '') => {
    const res = await request(app, 'GET', `/api/v4/groups${query ? `?${query}` : ''}`, { token });
    expect(res.status, res.text).to.equal(200);
    return res.json as { id: string; display_name: string; member_count: number; member_ids?: string[] }[];
  };
  const names = (groups: { display_name: string }[]) => groups.map((g) => g.display_name);

  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    manager = await makeUser(app, { roles: 'system_user system_user_manager' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    guest = await makeUser(app, { roles: 'system_guest' });
    team = await makeTeam(app.ownerDb, { members: [alice.user, guest.user] });
    privateTeam = await makeTeam(app.ownerDb, { type: 'I' });
    channel = await makeChannel(app.ownerDb, team.id, { type: 'O', members: [alice.user, guest.user] });
    privateChannel = await makeChannel(app.ownerDb, team.id, { type: 'P' });
    const now = Date.now();
    const group = async (key: string, row: Record<string, unknown>, members: TestUser[]) => {
      const id = newId();
      ids[key] = id;
      await app.ownerDb('groups').insert({ id, remote_id: id, create_at: now, update_at: now, ...row });
      for (const u of members) await app.ownerDb('group_members').insert({ group_id: id, user_id: u.user.id, create_at: now });
    };
    // Display names sort in this order.
    await group('credit', { source: 'ldap', display_name: 'Credit desk', name: 'credit', allow_reference: true }, [bob]);
    await group('fx', { source: 'custom', display_name: 'FX desk', name: 'fx-desk', allow_reference: true }, [alice, bob]);
    await group('old', { source: 'custom', display_name: 'Old desk', name: 'old-desk', allow_reference: true, delete_at: now }, [alice]);
    await group('ops', { source: 'saml', display_name: 'Ops', allow_reference: false }, [alice]);
    await group('rates', { source: 'ldap', display_name: 'Rates 100% desk', allow_reference: false }, [alice, guest]);
    await group('risk', { source: 'oidc', display_name: 'Risk', name: 'risk', allow_reference: true }, [guest]);
    await app.ownerDb('group_syncables').insert({ group_id: ids.credit, syncable_id: team.id, type: 'team', auto_add: false, create_at: now, update_at: now });
  });
  after(async () => app?.close());

  it('lists every active group for those who manage groups, with member counts', async () => {
    const groups = await list(manager.token);
    expect(names(groups)).to.deep.equal(['Credit desk', 'FX desk', 'Ops', 'Rates 100% desk', 'Risk']);
    expect(groups.find((g) => g.id === ids.fx)!.member_count).to.equal(2);
  });

  it('lists custom groups apart from synced ones (source, group_source, only_syncable_sources)', async () => {
    expect(names(await list(admin.token, 'source=custom'))).to.deep.equal(['FX desk']);
    expect(names(await list(admin.token, 'group_source=ldap'))).to.deep.equal(['Credit desk', 'Rates 100% desk']);
    expect(names(await list(admin.token, 'only_syncable_sources=true'))).to.deep.equal(['Credit desk', 'Ops', 'Rates 100% desk', 'Risk']);
  });

  it('shows those who do not manage groups only groups people can mention, whatever they ask', async () => {
    expect(names(await list(alice.token))).to.deep.equal(['Credit desk', 'FX desk', 'Risk']);
    expect(names(await list(alice.token, 'filter_allow_reference=false&source=ldap'))).to.deep.equal(['Credit desk']);
    expect(names(await list(admin.token, 'filter_allow_reference=true'))).to.deep.equal(['Credit desk', 'FX desk', 'Risk']);
  });

  it('shows a guest only their own groups, and nothing of another user\'s', async () => {
    expect(names(await list(guest.token))).to.deep.equal(['Risk']);
    expect(await list(guest.token, `filter_has_member=${alice.user.id}`)).to.deep.equal([]);
  });

  it('lists a user\'s groups with filter_has_member', async () => {
    expect(names(await list(admin.token, `filter_has_member=${alice.user.id}`))).to.deep.equal(['FX desk', 'Ops', 'Rates 100% desk']);
    expect(names(await list(bob.token, `filter_has_member=${alice.user.id}`))).to.deep.equal(['FX desk']);
  });

  it('searches names and display names with q, taking % and _ literally', async () => {
    expect(names(await list(admin.token, 'q=DESK'))).to.deep.equal(['Credit desk', 'FX desk', 'Rates 100% desk']);
    expect(names(await list(admin.token, 'q=fx-d'))).to.deep.equal(['FX desk']);
    expect(names(await list(admin.token, `q=${encodeURIComponent('100%')}`))).to.deep.equal(['Rates 100% desk']);
    expect(await list(admin.token, 'q=_')).to.deep.equal([]);
  });

  it('lists archived groups on request (include_archived, filter_archived)', async () => {
    expect(names(await list(alice.token, 'filter_archived=true'))).to.deep.equal(['Old desk']);
    expect(names(await list(alice.token, 'include_archived=true'))).to.deep.equal(['Credit desk', 'FX desk', 'Old desk', 'Risk']);
    const read = await request(app, 'GET', `/api/v4/groups/${ids.old}`, { token: alice.token });
    expect(read.status, 'an archived mentionable group is readable by id too').to.equal(200);
  });

  it('pages, counts in all with include_total_count, and lists member ids on request', async () => {
    const res = await request(app, 'GET', '/api/v4/groups?per_page=2&page=1&include_total_count=true&include_member_ids=true', { token: admin.token });
    expect(res.status).to.equal(200);
    expect(res.json.total_group_count).to.equal(5);
    expect(names(res.json.groups)).to.deep.equal(['Ops', 'Rates 100% desk']);
    expect(res.json.groups[1].member_ids).to.have.members([alice.user.id, guest.user.id]);
    expect((await list(admin.token))[0]).to.not.have.property('member_ids');
  });

  it('lists groups not yet linked to a team (Client4 getGroupsNotAssociatedToTeam)', async () => {
    const groups = await client4(app, admin.token).getGroupsNotAssociatedToTeam(team.id, '', 0, 60, 'ldap');
    expect(groups.map((g) => g.display_name)).to.deep.equal(['Rates 100% desk']);
    expect(names(await list(alice.token, `not_associated_to_team=${team.id}`)), 'a team member sees the mentionable ones').to.deep.equal(['FX desk', 'Risk']);
  });

  it('hides a team the caller cannot see, and answers an unknown one with a 404', async () => {
    const hidden = await request(app, 'GET', `/api/v4/groups?not_associated_to_team=${privateTeam.id}`, { token: alice.token });
    expect(hidden.status).to.equal(404);
    const unknown = await request(app, 'GET', `/api/v4/groups?not_associated_to_team=${newId()}`, { token: admin.token });
    expect(unknown.status).to.equal(404);
    expect(unknown.json.id).to.equal('app.team.get.find.app_error');
  });

  it('lists groups not linked to a channel for those who may manage its members, as Mattermost does', async () => {
    await app.ownerDb('group_syncables').insert({ group_id: ids.risk, syncable_id: channel.id, type: 'channel', auto_add: false, create_at: Date.now(), update_at: Date.now() });
    expect(names(await list(alice.token, `not_associated_to_channel=${channel.id}`))).to.deep.equal(['Credit desk', 'FX desk']);
    const asGuest = await request(app, 'GET', `/api/v4/groups?not_associated_to_channel=${channel.id}`, { token: guest.token });
    expect(asGuest.status, 'a channel guest may not manage its members').to.equal(403);
    const outsider = await request(app, 'GET', `/api/v4/groups?not_associated_to_channel=${privateChannel.id}`, { token: alice.token });
    expect(outsider.status, 'not a member of the private channel').to.be.oneOf([403, 404]);
  });

  it('offers only the team\'s groups for a channel of a group-constrained team (filter_parent_team_permitted)', async () => {
    await app.ownerDb('teams').where({ id: team.id }).update({ group_constrained: true });
    try {
      expect(names(await list(admin.token, `not_associated_to_channel=${privateChannel.id}&filter_parent_team_permitted=true`))).to.deep.equal(['Credit desk']);
      expect(names(await list(admin.token, `not_associated_to_channel=${privateChannel.id}`))).to.have.length(5);
    } finally {
      await app.ownerDb('teams').where({ id: team.id }).update({ group_constrained: false });
    }
    expect(names(await list(admin.token, `not_associated_to_channel=${privateChannel.id}&filter_parent_team_permitted=true`)), 'an unconstrained team limits nothing').to.have.length(5);
  });

  it('lists groups changed since a time', async () => {
    await app.ownerDb('groups').where({ id: ids.ops }).update({ update_at: Date.now() + 60_000 });
    expect(names(await list(admin.token, `since=${Date.now() + 30_000}`))).to.deep.equal(['Ops']);
  });

  for (const [what, query] of [
    ['an unknown source', 'source=github'], ['a malformed team id', 'not_associated_to_team=x'], ['a malformed channel id', 'not_associated_to_channel=../x'],
    ['a malformed member id', 'filter_has_member=*'], ['a negative since', 'since=-1'], ['per_page 0', 'per_page=0'], ['a non-boolean flag', 'include_archived=yes'],
  ]) {
    it(`answers ${what} with a 400 in Mattermost's error shape`, async () => {
      const res = await request(app, 'GET', `/api/v4/groups?${query}`, { token: admin.token });
      expect(res.status, res.text).to.equal(400);
      expect(res.json).to.include({ id: 'api.context.invalid_param.app_error', status_code: 400 });
    });
  }

  it('needs a session (401)', async () => {
    expect((await request(app, 'GET', '/api/v4/groups')).status).to.equal(401);
  });
});
