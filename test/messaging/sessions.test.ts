import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser } from '../support/factories.ts';

describe('sessions, login throttling and membership history', () => {
  let app: TestApp;
  before(async () => (app = await bootApp({ CUSTODIAN_SESSION_IDLE_TIMEOUT_MINUTES: '30', CUSTODIAN_LOGIN_MAX_ATTEMPTS: '3' })));
  after(async () => app.close());

  it('stores passwords as argon2id with OWASP parameters, never in clear', async () => {
    const { user, password } = await makeUser(app);
    const row = await app.ownerDb('users').where({ id: user.id }).first();
    expect(row.password_hash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).to.not.include(password);
  });

  it('stores only a hash of session tokens', async () => {
    const { token } = await makeUser(app);
    const rows = await app.ownerDb('sessions').where({ token_hash: token });
    expect(rows, 'the raw token is not a key in the table').to.have.length(0);
  });

  it('expires a session idle longer than the idle timeout', async () => {
    const { user, token } = await makeUser(app);
    await app.ownerDb('sessions').where({ user_id: user.id }).update({ last_activity_at: Date.now() - 31 * 60_000 });
    const res = await request(app, 'GET', '/api/v4/users/me', { token });
    expect(res.status).to.equal(401);
    expect(await app.ownerDb('sessions').where({ user_id: user.id })).to.have.length(0);
  });

  it('records that a session was used, shortly after the response, so it does not go idle', async () => {
    const { user, token } = await makeUser(app);
    const fiveMinutesAgo = Date.now() - 5 * 60_000;
    await app.ownerDb('sessions').where({ user_id: user.id }).update({ last_activity_at: fiveMinutesAgo });
    const requested = Date.now();
    expect((await request(app, 'GET', '/api/v4/users/me', { token })).status).to.equal(200);
    const deadline = Date.now() + 5000;
    let recorded = fiveMinutesAgo;
    while (Date.now() < deadline && recorded === fiveMinutesAgo) {
      await new Promise((r) => setTimeout(r, 100));
      recorded = (await app.ownerDb('sessions').where({ user_id: user.id }).first('last_activity_at')).last_activity_at;
    }
    expect(recorded).to.be.at.least(requested);
  });

  it('expires a session past its absolute lifetime however active', async () => {
    const { user, token } = await makeUser(app);
    await app.ownerDb('sessions').where({ user_id: user.id }).update({ expires_at: Date.now() - 1 });
    expect((await request(app, 'GET', '/api/v4/users/me', { token })).status).to.equal(401);
  });

  it('issues a new token at every login', async () => {
    const { user, password } = await makeUser(app);
    const first = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password } });
    const second = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password } });
    expect(first.headers.get('token')).to.not.equal(second.headers.get('token'));
  });

  it('locks an account out after repeated failures, even for the right password, with Retry-After', async () => {
    const { user, password } = await makeUser(app);
    for (let i = 0; i < 3; i++) {
      const bad = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password: 'wrong-password' } });
      expect(bad.status).to.equal(401);
    }
    const locked = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password } });
    expect(locked.status).to.equal(429);
    expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0);
    const other = await makeUser(app);
    const unaffected = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: other.user.username, password: other.password } });
    expect(unaffected.status, 'other accounts keep working').to.equal(200);
  });

  it('refuses to log in a deactivated account', async () => {
    const { user, password } = await makeUser(app);
    await app.ownerDb('users').where({ id: user.id }).update({ delete_at: Date.now() });
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: user.username, password } });
    expect(res.status).to.equal(401);
    expect(res.json.id).to.equal('api.user.login.inactive.app_error');
  });

  it('keeps channel membership history across joins and leaves', async () => {
    const owner = await makeUser(app);
    const joiner = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [owner.user, joiner.user] });
    const channel = await makeChannel(app.ownerDb, team.id, { members: [owner.user] });
    const join = () => request(app, 'POST', `/api/v4/channels/${channel.id}/members`, { token: joiner.token, body: { user_id: joiner.user.id } });
    const leave = () => request(app, 'DELETE', `/api/v4/channels/${channel.id}/members/${joiner.user.id}`, { token: joiner.token });
    expect((await join()).status).to.equal(201);
    expect((await leave()).status).to.equal(200);
    expect((await join()).status).to.equal(201);
    const history = await app.ownerDb('channel_member_history').where({ channel_id: channel.id, user_id: joiner.user.id }).orderBy('join_time');
    expect(history).to.have.length(2);
    expect(history[0].leave_time).to.be.a('number').and.to.be.at.least(history[0].join_time);
    expect(history[1].leave_time).to.equal(null);
  });
});
