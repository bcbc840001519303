import { expect } from 'chai';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { connect, officialClient, type Frame, openSocket, quietOfficialClient, seqsAreContinuous, until, upgradeStatus, wsUrl } from './ws-clients.ts';

describe('WebSocket: connecting and authenticating', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let restoreConsole: () => void;
  before(async () => {
    app = await bootApp();
    alice = await makeUser(app);
    bob = await makeUser(app);
    restoreConsole = quietOfficialClient();
  });
  after(async () => {
    restoreConsole();
    await app.close();
  });

  it('greets with hello at seq 0, then numbers every event 1, 2, 3 in Mattermost shape', async () => {
    const socket = await connect(app, alice.token);
    const hello = socket.events[0];
    expect(hello).to.have.all.keys('event', 'data', 'broadcast', 'seq');
    expect(hello.event).to.equal('hello');
    expect(hello.seq).to.equal(0);
    expect(hello.data.connection_id).to.match(/^[a-z0-9]{26}$/);
    expect(hello.data.server_version).to.match(/^10\.5\.0\./);
    expect(hello.data.server_hostname).to.be.a('string').and.not.empty;
    expect(hello.broadcast.user_id).to.equal(alice.user.id);

    for (const marker of ['one', 'two', 'three']) app.services.events.publish({ event: 'preferences_changed', data: { marker }, broadcast: { user_id: alice.user.id } });
    const third = await socket.event('preferences_changed', 'three');
    expect(third).to.have.all.keys('event', 'data', 'broadcast', 'seq');
    expect(socket.events.map((e) => e.data.marker ?? e.event)).to.deep.equal(['hello', 'one', 'two', 'three']);
    expect(seqsAreContinuous(socket.events)).to.equal(true);
    socket.close();
  });

  it('authenticates with the MMAUTHTOKEN cookie', async () => {
    const socket = await openSocket(app, { headers: { Cookie: `MMUSERID=${alice.user.id}; MMAUTHTOKEN=${alice.token}` } });
    const hello = await socket.event('hello');
    expect(hello.broadcast.user_id).to.equal(alice.user.id);
    socket.close();
  });

  it('refuses a cookie-authenticated upgrade from another origin', async () => {
    expect(await upgradeStatus(app, { Cookie: `MMAUTHTOKEN=${alice.token}`, Origin: 'https://evil.example' })).to.equal(403);
    expect(await upgradeStatus(app, { Cookie: `MMAUTHTOKEN=${alice.token}`, Origin: app.url })).to.equal(101);
  });

  it('refuses an upgrade with an invalid bearer token', async () => {
    expect(await upgradeStatus(app, { Authorization: 'Bearer notavalidtokennotavalidtoken' })).to.equal(401);
  });

  it('authenticates with an authentication_challenge sent after the upgrade', async () => {
    const socket = await openSocket(app);
    const reply = await socket.request('authentication_challenge', { token: bob.token });
    expect(reply).to.deep.include({ status: 'OK', seq_reply: 1 });
    const hello = await socket.event('hello');
    expect(hello.seq).to.equal(0);
    expect(hello.broadcast.user_id).to.equal(bob.user.id);
    socket.close();
  });

  it('refuses other actions before authentication, and a challenge with seq 0', async () => {
    const socket = await openSocket(app);
    const early = await socket.request('get_statuses');
    expect(early.status).to.equal('FAIL');
    expect(early.error.id).to.equal('api.web_socket_router.not_authenticated.app_error');
    socket.ws.send(JSON.stringify({ seq: 0, action: 'authentication_challenge', data: { token: bob.token } }));
    const bad = await socket.waitFor((f) => f.status === 'FAIL' && f.seq_reply === 0, 'bad_seq reply');
    expect(bad.error.id).to.equal('api.web_socket_router.bad_seq.app_error');
    expect(socket.hasEvent('hello')).to.equal(false);
    socket.close();
  });

  it('closes the socket on a challenge with a bad token', async () => {
    const socket = await openSocket(app);
    socket.ws.send(JSON.stringify({ seq: 1, action: 'authentication_challenge', data: { token: 'x'.repeat(26) } }));
    const { code } = await socket.closed;
    expect(code).to.equal(1008);
    expect(socket.hasEvent('hello')).to.equal(false);
  });

  it('closes a socket that never authenticates once the auth window has passed', async () => {
    const hub = app.services.realtime;
    const socket = await openSocket(app);
    await until(() => hub.stats().unauthenticated > 0, 'the pending socket');
    hub.sweep(Date.now() + 1_000);
    expect(socket.ws.readyState).to.equal(socket.ws.OPEN);
    hub.sweep(Date.now() + hub.settings.authTimeoutMs + 1);
    const { code } = await socket.closed;
    expect(code).to.equal(1008);
  });

  it('answers ping and reports statuses of connected users', async () => {
    const a = await connect(app, alice.token);
    const pong = await a.request('ping');
    expect(pong.status).to.equal('OK');
    expect(pong.data.text).to.equal('pong');

    const carol = await makeUser(app);
    const all = await a.request('get_statuses');
    expect(all.data[alice.user.id]).to.equal('online');
    expect(all.data).not.to.have.property(carol.user.id);
    const some = await a.request('get_statuses_by_ids', { user_ids: [alice.user.id, carol.user.id] });
    expect(some.data).to.deep.equal({ [alice.user.id]: 'online', [carol.user.id]: 'offline' });
    const bad = await a.request('get_statuses_by_ids', { user_ids: ['nope'] });
    expect(bad.status).to.equal('FAIL');
    const unknown = await a.request('no_such_action');
    expect(unknown.status).to.equal('FAIL');
    a.close();
  });

  it('works with the official @mattermost/client WebSocketClient', async () => {
    const { client, messages } = officialClient();
    const firstConnect = new Promise<void>((resolve) => client.addFirstConnectListener(resolve));
    client.initialize(wsUrl(app), alice.token);
    await firstConnect;
    await until(() => messages.find((m) => m.event === 'hello'), 'hello through WebSocketClient');

    // The typings declare a callback without arguments; at run time it receives the reply.
    const statuses = await new Promise<Frame>((resolve) => client.getStatuses(resolve as unknown as () => void));
    expect(statuses.status).to.equal('OK');
    expect(statuses.data[alice.user.id]).to.equal('online');

    app.services.events.publish({ event: 'preferences_changed', data: { marker: 'official' }, broadcast: { user_id: alice.user.id } });
    const got = await until(() => messages.find((m) => m.data?.marker === 'official'), 'event through WebSocketClient');
    expect(got.seq).to.equal(1);
    client.close();
  });
});
