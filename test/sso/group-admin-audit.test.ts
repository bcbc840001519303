import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from './helpers.ts';

type Record = Awaited<ReturnType<typeof auditRecords>>[number] & { event: { prior_state: { [k: string]: unknown }; resulting_state: { [k: string]: unknown } } };

/**
 * Changing what a group grants (roles, links to teams and channels, group constraints) changes who may
 * do what: every such change is in the tamper-evident audit log with who made it, and so is every refusal.
 */
describe('group administration is audited', function () {
  this.timeout(60_000);
  let app: TestApp;
  let admin: TestUser;
  let manager: TestUser;
  let plain: TestUser;
  let member: TestUser;
  let team: { id: string };
  let channel: { id: string };
  let groupId: string;

  const api = (method: string, path: string, token: string, body?: unknown) => request(app, method, path, { token, body });
  const records = async (event: string) => (await auditRecords(app, event)) as Record[];

  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    manager = await makeUser(app, { roles: 'system_user system_user_manager' });
    plain = await makeUser(app);
    member = await makeUser(app);
    team = await makeTeam(app.ownerDb);
    channel = await makeChannel(app.ownerDb, team.id, { type: 'P' });
    groupId = newId();
    await app.ownerDb('groups').insert({ id: groupId, source: 'ldap', remote_id: `audited-${groupId}`, display_name: 'Auditors', create_at: Date.now(), update_at: Date.now() });
    await app.ownerDb('group_members').insert({ group_id: groupId, user_id: member.user.id, create_at: Date.now() });
  });
  after(async () => app?.close());

  it('records who gave a group system roles, with the roles before and after, and the member\'s new roles', async () => {
    const res = await api('PUT', `/api/v4/groups/${groupId}/patch`, admin.token, { roles: 'auditor' });
    expect(res.status, res.text).to.equal(200);
    const [record] = (await records('patch_group')).filter((r) => r.status === 'success');
    expect(record.actor.user_id).to.equal(admin.user.id);
    expect(record.event.parameters).to.include({ group_id: groupId, roles: 'auditor' });
    expect(record.event.prior_state).to.deep.equal({ roles: '' });
    expect(record.event.resulting_state).to.deep.equal({ roles: 'auditor' });
    expect((await records('group_roles_changed')).some((r) => r.actor.user_id === member.user.id), 'the grant itself').to.equal(true);
  });

  it('records a refused attempt to grant roles, and changes nothing', async () => {
    const res = await api('PUT', `/api/v4/groups/${groupId}/patch`, manager.token, { roles: 'system_admin' });
    expect(res.status).to.equal(403);
    const refused = (await records('patch_group')).filter((r) => r.status === 'fail');
    expect(refused.map((r) => r.actor.user_id)).to.deep.equal([manager.user.id]);
    expect((await app.ownerDb('groups').where({ id: groupId }).first()).roles).to.equal('auditor');
  });

  it('records linking, patching and unlinking a team, and the members it moved', async () => {
    expect((await api('POST', `/api/v4/groups/${groupId}/teams/${team.id}/link`, manager.token, { auto_add: true })).status).to.equal(201);
    expect((await api('PUT', `/api/v4/groups/${groupId}/teams/${team.id}/patch`, manager.token, { scheme_admin: true })).status).to.equal(200);
    expect((await api('DELETE', `/api/v4/groups/${groupId}/teams/${team.id}/link`, manager.token)).status).to.equal(200);
    const [link] = await records('link_group_syncable');
    expect(link).to.deep.include({ status: 'success' });
    expect(link.actor.user_id).to.equal(manager.user.id);
    expect(link.event.parameters).to.include({ group_id: groupId, team_id: team.id, auto_add: true });
    const [patch] = await records('patch_group_syncable');
    expect(patch.event.prior_state).to.deep.equal({ auto_add: true, scheme_admin: false });
    expect(patch.event.parameters).to.include({ team_id: team.id, scheme_admin: true });
    expect((await records('unlink_group_syncable')).map((r) => r.status)).to.deep.equal(['success']);
    expect((await records('group_sync_added_to_team')).some((r) => r.actor.user_id === member.user.id)).to.equal(true);
  });

  it('records making a channel group-constrained, and refusals of link and constraint changes', async () => {
    expect((await api('PUT', `/api/v4/groups/syncables/channels/${channel.id}/constrained`, admin.token, { group_constrained: true })).status).to.equal(200);
    const [constrained] = await records('update_group_constrained');
    expect(constrained.event.parameters).to.deep.equal({ channel_id: channel.id, group_constrained: true });
    expect((await api('PUT', `/api/v4/groups/syncables/channels/${channel.id}/constrained`, plain.token, { group_constrained: false })).status).to.equal(403);
    expect((await api('POST', `/api/v4/groups/${groupId}/channels/${channel.id}/link`, plain.token, {})).status).to.equal(403);
    expect((await records('update_group_constrained')).filter((r) => r.status === 'fail').map((r) => r.actor.user_id)).to.deep.equal([plain.user.id]);
    expect((await records('link_group_syncable')).filter((r) => r.status === 'fail').map((r) => r.actor.user_id)).to.deep.equal([plain.user.id]);
    expect((await app.ownerDb('channels').where({ id: channel.id }).first()).group_constrained).to.equal(true);
  });

  it('records a link to something that does not exist as a failure (404)', async () => {
    const res = await api('POST', `/api/v4/groups/${groupId}/teams/${newId()}/link`, admin.token, {});
    expect(res.status).to.equal(404);
    const failed = (await records('link_group_syncable')).filter((r) => r.status === 'fail' && r.actor.user_id === admin.user.id);
    expect(failed).to.have.length(1);
  });
});
