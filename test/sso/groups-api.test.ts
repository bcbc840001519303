import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from './helpers.ts';

describe('groups API: custom groups, links, and groups seen from teams, channels and users', function () {
  this.timeout(60_000);
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let guest: TestUser;
  let team: { id: string };
  let channel: { id: string };
  let directoryGroupId: string;
  let seq = 0;

  const api = (method: string, path: string, token: string, body?: unknown) => request(app, method, path, { token, body });
  const groupName = () => `g${Date.now().toString(36)}${(++seq).toString(36)}`;
  const createGroup = (token: string, body: Record<string, unknown>) => api('POST', '/api/v4/groups', token, { name: groupName(), display_name: 'Desk', source: 'custom', allow_reference: true, ...body });

  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    guest = await makeUser(app, { roles: 'system_guest' });
    team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    channel = await makeChannel(app.ownerDb, team.id, { type: 'O', members: [alice.user, bob.user] });
    directoryGroupId = newId();
    await app.ownerDb('groups').insert({ id: directoryGroupId, source: 'ldap', remote_id: `rates-${directoryGroupId}`, display_name: 'Rates desk', create_at: Date.now(), update_at: Date.now() });
    await app.ownerDb('group_members').insert({ group_id: directoryGroupId, user_id: alice.user.id, create_at: Date.now() });
  });
  after(async () => app?.close());

  describe('POST /groups (custom groups)', () => {
    it('lets a user create a custom group with members, in Mattermost\'s shape, audited', async () => {
      const name = groupName();
      const res = await api('POST', '/api/v4/groups', alice.token, { name, display_name: 'FX desk', source: 'custom', allow_reference: true, user_ids: [alice.user.id, bob.user.id] });
      expect(res.status, res.text).to.equal(201);
      expect(res.json).to.include({ name, display_name: 'FX desk', source: 'custom', allow_reference: true, remote_id: '', delete_at: 0, member_count: 2 });
      expect(res.json.id).to.match(/^[a-z0-9]{26}$/);
      expect(await app.ownerDb('group_members').where({ group_id: res.json.id, delete_at: 0 }).pluck('user_id')).to.have.members([alice.user.id, bob.user.id]);
      expect((await auditRecords(app, 'create_group')).some((r) => r.status === 'success' && r.actor.user_id === alice.user.id)).to.equal(true);
      const read = await api('GET', `/api/v4/groups/${res.json.id}`, bob.token);
      expect(read.status, 'a mentionable group is readable by any user').to.equal(200);
    });

    const refusals: [string, Record<string, unknown>, string][] = [
      ['a directory source', { source: 'ldap' }, 'app.group.crud_permission'],
      ['no source', { source: undefined }, 'app.group.crud_permission'],
      ['allow_reference false', { allow_reference: false }, 'api.custom_groups.must_be_referenceable'],
      ['a remote id', { remote_id: 'cn=traders' }, 'api.custom_groups.no_remote_id'],
      ['a channel-wide mention name', { name: 'here' }, 'api.ldap_groups.existing_reserved_name_error'],
      ['a name with capitals or spaces', { name: 'FX Desk' }, 'api.context.invalid_param.app_error'],
      ['an unknown member id', { user_ids: ['zzzzzzzzzzzzzzzzzzzzzzzzzz'] }, 'api.context.invalid_param.app_error'],
      ['a malformed member id', { user_ids: ['../../etc'] }, 'api.context.invalid_param.app_error'],
    ];
    for (const [what, body, id] of refusals) {
      it(`refuses ${what} with a 400 (${id})`, async () => {
        const res = await createGroup(alice.token, body);
        expect(res.status, res.text).to.equal(400);
        expect(res.json.id).to.equal(id);
      });
    }

    it('refuses a name a user or another group already answers to', async () => {
      const taken = await createGroup(alice.token, { name: bob.user.username });
      expect(taken.json.id).to.equal('api.ldap_groups.existing_user_name_error');
      const name = groupName();
      expect((await createGroup(alice.token, { name })).status).to.equal(201);
      const again = await createGroup(bob.token, { name });
      expect(again.status).to.equal(400);
      expect(again.json.id).to.equal('api.ldap_groups.existing_group_name_error');
    });

    it('refuses guests (403)', async () => {
      const res = await createGroup(guest.token, {});
      expect(res.status).to.equal(403);
    });
  });

  describe('custom group members, archive and restore', () => {
    it('adds and removes members, and refuses to touch a directory group\'s members', async () => {
      const { json: group } = await createGroup(alice.token, {});
      const added = await api('POST', `/api/v4/groups/${group.id}/members`, alice.token, { user_ids: [bob.user.id] });
      expect(added.status, added.text).to.equal(200);
      expect(added.json).to.have.length(1);
      expect(added.json[0]).to.include({ group_id: group.id, user_id: bob.user.id, delete_at: 0 });
      const removed = await api('DELETE', `/api/v4/groups/${group.id}/members`, alice.token, { user_ids: [bob.user.id] });
      expect(removed.status).to.equal(200);
      expect(removed.json[0].delete_at).to.be.above(0);
      expect((await api('GET', `/api/v4/groups/${group.id}/stats`, admin.token)).json).to.deep.equal({ group_id: group.id, total_member_count: 0 });
      const directory = await api('POST', `/api/v4/groups/${directoryGroupId}/members`, admin.token, { user_ids: [bob.user.id] });
      expect(directory.status).to.equal(400);
      expect(directory.json.id).to.equal('app.group.crud_permission');
      expect(await app.ownerDb('group_members').where({ group_id: directoryGroupId, user_id: bob.user.id }).first()).to.equal(undefined);
    });

    it('archives and restores a custom group; a directory group cannot be deleted here', async () => {
      const { json: group } = await createGroup(alice.token, {});
      const deleted = await api('DELETE', `/api/v4/groups/${group.id}`, alice.token);
      expect(deleted.status, deleted.text).to.equal(200);
      expect(deleted.json.delete_at).to.be.above(0);
      const restored = await api('POST', `/api/v4/groups/${group.id}/restore`, alice.token);
      expect(restored.status, restored.text).to.equal(200);
      expect(restored.json.delete_at).to.equal(0);
      const directory = await api('DELETE', `/api/v4/groups/${directoryGroupId}`, admin.token);
      expect(directory.status).to.equal(400);
      expect(directory.json.id).to.equal('app.group.crud_permission');
    });
  });

  describe('custom groups grant nothing (anyone can fill them)', () => {
    it('refuses to link a custom group to a team or channel, even for a system admin', async () => {
      const { json: group } = await createGroup(alice.token, { user_ids: [alice.user.id] });
      for (const [type, id] of [['teams', team.id], ['channels', channel.id]]) {
        const res = await api('POST', `/api/v4/groups/${group.id}/${type}/${id}/link`, admin.token, { auto_add: true });
        expect(res.status, res.text).to.equal(400);
        expect(res.json.id).to.equal('app.group.crud_permission');
      }
      expect(await app.ownerDb('group_syncables').where({ group_id: group.id })).to.have.length(0);
    });

    it('refuses to give a custom group system roles', async () => {
      const { json: group } = await createGroup(alice.token, { user_ids: [alice.user.id] });
      const res = await api('PUT', `/api/v4/groups/${group.id}/patch`, admin.token, { roles: 'system_admin' });
      expect(res.status).to.equal(400);
      expect(res.json.id).to.equal('app.group.crud_permission');
      expect((await app.ownerDb('users').where({ id: alice.user.id }).first()).group_roles).to.equal('');
    });
  });

  describe('links seen from both sides', () => {
    before(async () => {
      expect((await api('POST', `/api/v4/groups/${directoryGroupId}/teams/${team.id}/link`, admin.token, { auto_add: true })).status).to.equal(201);
      expect((await api('POST', `/api/v4/groups/${directoryGroupId}/channels/${channel.id}/link`, admin.token, { auto_add: true })).status).to.equal(201);
    });

    it('reads one link, and patching scheme_admin makes the group\'s members team admins at once', async () => {
      const link = await api('GET', `/api/v4/groups/${directoryGroupId}/teams/${team.id}`, admin.token);
      expect(link.status, link.text).to.equal(200);
      expect(link.json).to.include({ group_id: directoryGroupId, team_id: team.id, type: 'Team', auto_add: true, scheme_admin: false });
      const patched = await api('PUT', `/api/v4/groups/${directoryGroupId}/teams/${team.id}/patch`, admin.token, { scheme_admin: true });
      expect(patched.status, patched.text).to.equal(200);
      expect(patched.json.scheme_admin).to.equal(true);
      expect((await app.ownerDb('team_members').where({ team_id: team.id, user_id: alice.user.id }).first()).scheme_admin).to.equal(true);
      expect((await api('GET', `/api/v4/groups/${directoryGroupId}/teams/${channel.id}`, admin.token)).status, 'no such link').to.equal(404);
      expect((await api('PUT', `/api/v4/groups/${directoryGroupId}/teams/${team.id}/patch`, bob.token, { scheme_admin: false })).status).to.equal(403);
    });

    it('lists a team\'s and a channel\'s groups: everything for group managers, mentionable groups for members', async () => {
      for (const path of [`/api/v4/teams/${team.id}/groups`, `/api/v4/channels/${channel.id}/groups`]) {
        const asAdmin = await api('GET', path, admin.token);
        expect(asAdmin.status, asAdmin.text).to.equal(200);
        expect(asAdmin.json.total_group_count).to.equal(1);
        expect(asAdmin.json.groups[0]).to.include({ id: directoryGroupId, display_name: 'Rates desk' });
        const asMember = await api('GET', path, bob.token);
        expect(asMember.status).to.equal(200);
        expect(asMember.json).to.deep.equal({ groups: [], total_group_count: 0 });
      }
      const outsider = await makeUser(app);
      expect((await api('GET', `/api/v4/channels/${channel.id}/groups`, outsider.token)).status).to.be.oneOf([403, 404]);
    });

    it('lists a user\'s own groups, and refuses someone else\'s to a non-admin', async () => {
      const mine = await api('GET', '/api/v4/users/me/groups', alice.token);
      expect(mine.status).to.equal(200);
      expect(mine.json.every((g: { allow_reference: boolean }) => g.allow_reference)).to.equal(true);
      const asAdmin = await api('GET', `/api/v4/users/${alice.user.id}/groups`, admin.token);
      expect(asAdmin.json.map((g: { id: string }) => g.id)).to.include(directoryGroupId);
      expect((await api('GET', `/api/v4/users/${alice.user.id}/groups`, bob.token)).status).to.equal(403);
    });
  });
});
