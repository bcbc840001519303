import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser } from '../support/factories.ts';
import { auditRecords, lastRecord } from './helpers.ts';

describe('audit recording', () => {
  let app: TestApp;
  before(async () => (app = await bootApp()));
  after(async () => app.close());

  it('records a successful sign-in with the session it opened, and never the password', async () => {
    const { user, password } = await makeUser(app);
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password }, headers: { 'User-Agent': 'audit-test' } });
    expect(res.status).to.equal(200);
    const record = await lastRecord(app, 'login');
    expect(record).to.include({ event_name: 'login', status: 'success' });
    expect(record.actor).to.include({ user_id: user.id, user_agent: 'audit-test' });
    expect(record.actor.session_id).to.have.length(26);
    expect(record.meta.api_path).to.equal('/api/v4/users/login');
    expect(record.event.parameters).to.deep.include({ login_id: user.username });
    expect(JSON.stringify(await auditRecords(app))).to.not.include(password);
  });

  it('records a failed sign-in, with the login id tried and the error, but not the password tried', async () => {
    const { user } = await makeUser(app);
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password: 'not-the-password-9' } });
    expect(res.status).to.equal(401);
    const record = await lastRecord(app, 'login');
    expect(record).to.include({ status: 'fail' });
    expect(record.actor.user_id).to.equal('');
    expect(record.event.parameters.login_id).to.equal(user.username);
    expect(record.error).to.include({ id: 'api.user.login.invalid_credentials_email_username', status_code: 401 });
    expect(JSON.stringify(record)).to.not.include('not-the-password-9');
  });

  it('keeps secrets out of records: the new user\'s password, the personal access token', async () => {
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    const password = 'Secret-Passphrase-42!';
    const created = await request(app, 'POST', '/api/v4/users', { token: admin.token, body: { email: 'secretive@example.com', username: 'secretive', password } });
    expect(created.status).to.equal(201);
    const record = await lastRecord(app, 'create_user');
    expect(record.event.parameters).to.include({ username: 'secretive', password: '[redacted]' });
    const tokenRes = await request(app, 'POST', `/api/v4/users/${admin.user.id}/tokens`, { token: admin.token, body: { description: 'ci' } });
    expect(tokenRes.status).to.equal(200);
    expect((await lastRecord(app, 'create_user_access_token')).event.resulting_state.token_id).to.equal(tokenRes.json.id);
    const everything = (await app.ownerDb('audit_log').select('record')).map((r: { record: string }) => r.record).join('\n');
    expect(everything).to.not.include(password);
    expect(everything).to.not.include(tokenRes.json.token);
    expect(everything).to.not.include(admin.token);
  });

  it('records a channel creation with what was created, in the same transaction', async () => {
    const { user, token } = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [user] });
    const res = await request(app, 'POST', '/api/v4/channels', { token, body: { team_id: team.id, name: 'audited-channel', display_name: 'Audited', type: 'O' } });
    expect(res.status).to.equal(201);
    const record = await lastRecord(app, 'create_channel');
    expect(record).to.include({ status: 'success' });
    expect(record.actor.user_id).to.equal(user.id);
    expect(record.event.object_type).to.equal('channel');
    expect(record.event.resulting_state).to.include({ channel_id: res.json.id, name: 'audited-channel' });
  });

  it('records a denied attempt with status fail, while the action is not done', async () => {
    const outsider = await makeUser(app);
    const owner = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [owner.user] });
    const channel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [owner.user] });
    const res = await request(app, 'DELETE', `/api/v4/channels/${channel.id}`, { token: outsider.token });
    expect(res.status).to.equal(403);
    const record = await lastRecord(app, 'archive_channel');
    expect(record).to.include({ status: 'fail' });
    expect(record.actor.user_id).to.equal(outsider.user.id);
    expect(record.error.status_code).to.equal(403);
    expect((await app.ownerDb('channels').where({ id: channel.id }).first()).delete_at).to.equal(0);
  });

  it("records a system admin reading a channel they are not a member of, but not a member's reads", async () => {
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    const member = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [member.user] });
    const channel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [member.user] });
    expect((await request(app, 'GET', `/api/v4/channels/${channel.id}/posts`, { token: member.token })).status).to.equal(200);
    expect(await lastRecord(app, 'read_other_users_messages')).to.equal(undefined);
    expect((await request(app, 'GET', `/api/v4/channels/${channel.id}/posts`, { token: admin.token })).status).to.equal(200);
    const record = await lastRecord(app, 'read_other_users_messages');
    expect(record.actor.user_id).to.equal(admin.user.id);
    expect(record.event.parameters.channel_id).to.equal(channel.id);
  });

  it('records logout, role changes and session revocation', async () => {
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    const target = await makeUser(app);
    expect((await request(app, 'PUT', `/api/v4/users/${target.user.id}/roles`, { token: admin.token, body: { roles: 'system_user auditor' } })).status).to.equal(200);
    const roles = await lastRecord(app, 'update_user_roles');
    expect(roles.event.prior_state).to.deep.equal({ roles: 'system_user' });
    expect(roles.event.resulting_state).to.deep.equal({ roles: 'system_user auditor' });
    expect((await request(app, 'POST', `/api/v4/users/${target.user.id}/sessions/revoke/all`, { token: admin.token })).status).to.equal(200);
    expect((await lastRecord(app, 'revoke_all_sessions')).event.parameters.user_id).to.equal(target.user.id);
    const other = await makeUser(app);
    expect((await request(app, 'POST', '/api/v4/users/logout', { token: other.token })).status).to.equal(200);
    expect((await lastRecord(app, 'logout')).actor.user_id).to.equal(other.user.id);
  });

  it('gives records gap-free sequence numbers under concurrent writers', async () => {
    const { user, token } = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [user] });
    await Promise.all(Array.from({ length: 30 }, (_, i) => request(app, 'POST', '/api/v4/channels', { token, body: { team_id: team.id, name: `c-${i}`, display_name: `c ${i}`, type: 'O' } })));
    const seqs = (await auditRecords(app)).map((r) => r.seq);
    expect(seqs).to.deep.equal(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });
});
