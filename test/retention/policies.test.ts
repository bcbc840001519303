import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from '../holds/support.ts';

describe('/data_retention policies', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let teamA: string;
  let teamB: string;
  let chanA1: string;
  let chanA2: string;
  let chanB1: string;

  before(async () => {
    app = await bootApp();
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app);
    teamA = (await makeTeam(app.ownerDb, { members: [alice.user] })).id;
    teamB = (await makeTeam(app.ownerDb, { members: [alice.user] })).id;
    chanA1 = (await makeChannel(app.ownerDb, teamA, { members: [alice.user] })).id;
    chanA2 = (await makeChannel(app.ownerDb, teamA, { members: [alice.user] })).id;
    chanB1 = (await makeChannel(app.ownerDb, teamB, { members: [alice.user] })).id;
  });
  after(async () => app.close());

  it('reads and sets the global policy (hours or days), for the compliance role only', async () => {
    const client = client4(app, officer.token);
    const initial = await client.getDataRetentionPolicy();
    expect(initial).to.include({ message_deletion_enabled: false, file_deletion_enabled: false, message_retention_cutoff: 0, file_retention_cutoff: 0 });
    expect(await statusOf(() => client4(app, alice.token).getDataRetentionPolicy())).to.equal(403);
    expect(await statusOf(() => client4(app).getDataRetentionPolicy())).to.equal(401);

    const set = await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_deletion_enabled: true, message_retention_days: 30, file_deletion_enabled: true, file_retention_hours: 48, keep_pinned: true } });
    expect(set.status, set.text).to.equal(200);
    expect(set.json).to.include({ message_deletion_enabled: true, message_retention_hours: 720, file_retention_hours: 48, keep_pinned: true });
    const policy = await client.getDataRetentionPolicy();
    expect(policy.message_retention_cutoff).to.be.closeTo(Date.now() - 30 * 86_400_000, 60_000);
    expect(policy.file_retention_cutoff).to.be.closeTo(Date.now() - 48 * 3_600_000, 60_000);

    expect((await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_retention_hours: 0 } })).status, 'minimum 1 hour').to.equal(400);
    expect((await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { unknown: true } })).status).to.equal(400);
    expect((await request(app, 'PUT', '/api/v4/data_retention/policy', { token: alice.token, body: { keep_pinned: false } })).status).to.equal(403);
    const audit = await auditRecords(app.ownerDb, 'update_data_retention_global_policy');
    expect(audit.map((r) => r.status)).to.include.members(['success', 'fail']);
  });

  it('manages custom policies with teams and channels through Client4', async () => {
    const client = client4(app, officer.token);
    const created = (await client.createDataRetentionPolicy({ display_name: 'Legal 90', post_duration: 90, team_ids: [teamA], channel_ids: [chanB1] })) as unknown as Record<string, unknown>;
    expect(created).to.include({ display_name: 'Legal 90', post_duration: 90, team_count: 1, channel_count: 1, keep_pinned: false });
    const id = created.id as string;

    const list = await client.getDataRetentionCustomPolicies();
    expect(list.total_count).to.equal(1);
    expect(list.policies[0]).to.include({ id, team_count: 1, channel_count: 1 });

    const patched = (await client.updateDataRetentionPolicy(id, { display_name: 'Legal 60', post_duration: 60 })) as unknown as Record<string, unknown>;
    expect(patched).to.include({ display_name: 'Legal 60', post_duration: 60 });

    await client.addDataRetentionPolicyChannels(id, [chanA2]);
    const channels = await client.getDataRetentionCustomPolicyChannels(id);
    expect(channels.total_count).to.equal(2);
    expect(channels.channels.map((c) => c.id)).to.have.members([chanA2, chanB1]);
    const teams = await client.getDataRetentionCustomPolicyTeams(id);
    expect(teams.map((t) => t.id)).to.deep.equal([teamA]);

    const other = (await client.createDataRetentionPolicy({ display_name: 'Forever', post_duration: -1, team_ids: [], channel_ids: [] })) as unknown as Record<string, unknown>;
    expect(await statusOf(() => client.addDataRetentionPolicyTeams(other.id as string, [teamA])), 'a team belongs to one policy').to.equal(409);
    expect(await statusOf(() => client.addDataRetentionPolicyChannels(other.id as string, ['zzzzzzzzzzzzzzzzzzzzzzzzzz'])), 'unknown channel').to.equal(400);
    expect(await statusOf(() => client.createDataRetentionPolicy({ display_name: 'Zero', post_duration: 0, team_ids: [], channel_ids: [] }))).to.equal(400);

    const mine = await request(app, 'GET', `/api/v4/users/${alice.user.id}/data_retention/team_policies`, { token: alice.token });
    expect(mine.status).to.equal(200);
    expect(mine.json).to.deep.equal({ policies: [{ team_id: teamA, post_duration: 60 }], total_count: 1 });
    const mineChannels = await request(app, 'GET', `/api/v4/users/${alice.user.id}/data_retention/channel_policies`, { token: alice.token });
    expect(mineChannels.json.total_count).to.equal(2);
    expect((await request(app, 'GET', `/api/v4/users/${officer.user.id}/data_retention/team_policies`, { token: alice.token })).status, "another user's policies").to.equal(403);

    await client.removeDataRetentionPolicyChannels(id, [chanA2]);
    expect((await client.getDataRetentionCustomPolicyChannels(id)).total_count).to.equal(1);
    await client.deleteDataRetentionCustomPolicy(id);
    expect(await statusOf(() => client.getDataRetentionCustomPolicy(id))).to.equal(404);
    expect(Number((await app.ownerDb('retention_policy_teams').count({ n: '*' }))[0].n), 'its teams go with it').to.equal(0);
    expect(await statusOf(() => client4(app, alice.token).getDataRetentionCustomPolicies())).to.equal(403);
    expect((await auditRecords(app.ownerDb, 'create_data_retention_policy')).length).to.be.greaterThan(0);
    expect((await auditRecords(app.ownerDb, 'add_data_retention_policy_channels')).length).to.be.greaterThan(0);
    void chanA1;
  });
});
