import { expect } from 'chai';
import { sessionActivity } from '../../server/auth/session-activity.ts';
import { createSession, hashToken, revokeAllSessions, revokeSession } from '../../server/auth/sessions.ts';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser } from '../support/factories.ts';
import { connect, until, upgradeStatus } from './ws-clients.ts';

describe('WebSocket: sessions that end', () => {
  let app: TestApp;
  before(async () => (app = await bootApp()));
  after(async () => app.close());

  it('closes the sockets of a revoked session at the next session check, and only those', async () => {
    const alice = await makeUser(app);
    const other = await createSession(app.ownerDb, { user: alice.user, lifetimeMs: 3600_000 });
    const revoked = await connect(app, alice.token);
    const kept = await connect(app, other.token);

    const session = await app.ownerDb('sessions').where({ user_id: alice.user.id }).whereNot({ id: other.session.id }).first();
    await revokeSession(app.ownerDb, session.id);
    expect(await app.services.realtime.revalidateSessions()).to.equal(1);
    expect((await revoked.closed).code).to.equal(1008);

    app.services.events.publish({ event: 'preferences_changed', data: { marker: 'still-here' }, broadcast: { user_id: alice.user.id } });
    await kept.event('preferences_changed', 'still-here');
    expect(kept.ws.readyState).to.equal(kept.ws.OPEN);
    kept.close();
  });

  it('closes sockets of expired sessions and deactivated users at the next session check', async () => {
    const expiring = await makeUser(app);
    const deactivated = await makeUser(app);
    const a = await connect(app, expiring.token);
    const b = await connect(app, deactivated.token);
    await app.ownerDb('sessions').where({ user_id: expiring.user.id }).update({ expires_at: Date.now() - 1 });
    await app.ownerDb('users').where({ id: deactivated.user.id }).update({ delete_at: Date.now() });
    await app.services.realtime.revalidateSessions();
    expect((await a.closed).code).to.equal(1008);
    expect((await b.closed).code).to.equal(1008);
  });

  it('disconnectUser closes every socket of the user at once and nothing can be resumed', async () => {
    const hub = app.services.realtime;
    const carol = await makeUser(app);
    const one = await connect(app, carol.token);
    const two = await connect(app, carol.token);
    const connectionId = one.events[0].data.connection_id;
    await revokeAllSessions(app.ownerDb, carol.user.id);
    expect(hub.disconnectUser(carol.user.id)).to.equal(2);
    expect((await one.closed).code).to.equal(1008);
    expect((await two.closed).code).to.equal(1008);
    await until(() => !hub.isOnline(carol.user.id), 'carol to be offline');
    expect(await upgradeStatus(app, { Authorization: `Bearer ${carol.token}` })).to.equal(401);

    const fresh = await createSession(app.ownerDb, { user: carol.user, lifetimeMs: 3600_000 });
    const again = await connect(app, fresh.token, `connection_id=${connectionId}&sequence_number=1`);
    expect(again.events[0].data.connection_id).not.to.equal(connectionId);
    again.close();
  });

  it('disconnectSession closes one session’s sockets', async () => {
    const dave = await makeUser(app);
    const other = await createSession(app.ownerDb, { user: dave.user, lifetimeMs: 3600_000 });
    const a = await connect(app, dave.token);
    const b = await connect(app, other.token);
    expect(app.services.realtime.disconnectSession(other.session.id)).to.equal(1);
    expect((await b.closed).code).to.equal(1008);
    expect(a.ws.readyState).to.equal(a.ws.OPEN);
    a.close();
  });

  it('closes a socket when its session reaches expires_at, without waiting for the database check', async () => {
    const erin = await makeUser(app);
    const short = await createSession(app.ownerDb, { user: erin.user, lifetimeMs: 60_000 });
    const socket = await connect(app, short.token);
    app.services.realtime.sweep(Date.now() + 30_000);
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
    app.services.realtime.sweep(Date.now() + 61_000);
    expect((await socket.closed).code).to.equal(1008);
  });
});

describe('WebSocket: idle timeouts and personal access tokens', () => {
  let app: TestApp;
  before(async () => (app = await bootApp({ CUSTODIAN_SESSION_IDLE_TIMEOUT_MINUTES: '30' })));
  after(async () => app.close());

  it('closes the socket of a session idle longer than the timeout, keeps an active one', async () => {
    const idle = await makeUser(app);
    const active = await makeUser(app);
    const a = await connect(app, idle.token);
    const b = await connect(app, active.token);
    await app.ownerDb('sessions').where({ user_id: idle.user.id }).update({ last_activity_at: Date.now() - 31 * 60_000 });
    expect(await app.services.realtime.revalidateSessions()).to.equal(1);
    expect((await a.closed).code).to.equal(1008);
    expect(b.ws.readyState).to.equal(b.ws.OPEN);
    b.close();
  });

  it('keeps a session alive while its socket reports activity (user_update_active_status), written in a batch', async () => {
    const user = await makeUser(app);
    const socket = await connect(app, user.token);
    const longAgo = Date.now() - 31 * 60_000;
    await app.ownerDb('sessions').where({ user_id: user.user.id }).update({ last_activity_at: longAgo });
    const reply = await socket.request('user_update_active_status', { user_is_active: true, manual: false });
    expect(reply.status).to.equal('OK');
    await sessionActivity.flush();
    const row = await app.ownerDb('sessions').where({ user_id: user.user.id }).first('last_activity_at');
    expect(Number(row.last_activity_at)).to.be.greaterThan(longAgo + 30 * 60_000);
    expect(await app.services.realtime.revalidateSessions()).to.equal(0);
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
    socket.close();
  });

  it('closes the socket of a session made from a personal access token once the token is deactivated', async () => {
    const bot = await makeUser(app);
    const tokenId = newId();
    const token = newId();
    await app.ownerDb('user_access_tokens').insert({ id: tokenId, token_hash: hashToken(token), user_id: bot.user.id, create_at: Date.now() });
    const socket = await connect(app, token);
    await app.ownerDb('sessions').where({ access_token_id: tokenId }).update({ last_activity_at: 0 });
    expect(await app.services.realtime.revalidateSessions()).to.equal(0);
    await app.ownerDb('user_access_tokens').where({ id: tokenId }).update({ is_active: false });
    expect(await app.services.realtime.revalidateSessions()).to.equal(1);
    expect((await socket.closed).code).to.equal(1008);
  });
});
