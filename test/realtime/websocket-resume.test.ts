import { expect } from 'chai';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { connect, officialClient, openSocket, quietOfficialClient, until, wsUrl } from './ws-clients.ts';

describe('WebSocket: reconnecting with connection_id and sequence_number', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let restoreConsole: () => void;
  const toAlice = (marker: string) => app.services.events.publish({ event: 'preferences_changed', data: { marker }, broadcast: { user_id: alice.user.id } });

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

  it('replays the events missed while disconnected and continues the same sequence', async () => {
    const hub = app.services.realtime;
    const first = await connect(app, alice.token);
    const connectionId = first.events[0].data.connection_id;
    toAlice('a1');
    toAlice('a2');
    await first.event('preferences_changed', 'a2');
    first.close();
    await until(() => hub.stats().dormant === 1, 'the server to notice the disconnect');
    toAlice('b1');
    toAlice('b2');

    // Pretend a2 (seq 2) was lost in flight: the client asks to continue from seq 2.
    const second = await openSocket(app, { token: alice.token, query: `connection_id=${connectionId}&sequence_number=2` });
    await second.event('preferences_changed', 'b2');
    toAlice('c1');
    await second.event('preferences_changed', 'c1');
    expect(second.events.map((e) => [e.seq, e.data.marker])).to.deep.equal([
      [2, 'a2'],
      [3, 'b1'],
      [4, 'b2'],
      [5, 'c1'],
    ]);
    expect(second.hasEvent('hello')).to.equal(false);
    second.close();
  });

  it('resumes after an authentication_challenge too, replaying nothing when nothing was missed', async () => {
    const hub = app.services.realtime;
    const first = await connect(app, alice.token);
    const connectionId = first.events[0].data.connection_id;
    toAlice('d1');
    await first.event('preferences_changed', 'd1');
    first.close();
    await until(() => hub.stats().dormant >= 1, 'the server to notice the disconnect');

    const second = await openSocket(app, { query: `connection_id=${connectionId}&sequence_number=2` });
    expect((await second.request('authentication_challenge', { token: alice.token })).status).to.equal('OK');
    toAlice('d2');
    const next = await second.event('preferences_changed', 'd2');
    expect(next.seq).to.equal(2);
    expect(second.events).to.have.length(1);
    second.close();
  });

  it('starts a fresh connection (new id, hello at seq 0) when the missed events are gone', async () => {
    const hub = app.services.realtime;
    const first = await connect(app, alice.token);
    const connectionId = first.events[0].data.connection_id;
    first.close();
    await until(() => hub.stats().dormant >= 1, 'the server to notice the disconnect');
    for (let i = 0; i < hub.settings.replaySize + 5; i++) toAlice(`flood${i}`);

    const second = await openSocket(app, { token: alice.token, query: `connection_id=${connectionId}&sequence_number=1` });
    const hello = await second.event('hello');
    expect(hello.seq).to.equal(0);
    expect(hello.data.connection_id).not.to.equal(connectionId);
    second.close();
  });

  it('never resumes another user’s connection', async () => {
    const hub = app.services.realtime;
    const first = await connect(app, alice.token);
    const connectionId = first.events[0].data.connection_id;
    toAlice('private');
    await first.event('preferences_changed', 'private');
    first.close();
    await until(() => hub.stats().dormant >= 1, 'the server to notice the disconnect');

    const intruder = await openSocket(app, { token: bob.token, query: `connection_id=${connectionId}&sequence_number=0` });
    const hello = await intruder.event('hello');
    expect(hello.data.connection_id).not.to.equal(connectionId);
    expect(hello.broadcast.user_id).to.equal(bob.user.id);
    expect(intruder.hasEvent('preferences_changed')).to.equal(false);
    intruder.close();
  });

  it('lets the official WebSocketClient reconnect without a resync and without losing events', async () => {
    const { client, sockets, urls, messages } = officialClient();
    let missed = 0;
    client.addMissedMessageListener(() => missed++);
    const reconnected = new Promise<void>((resolve) => client.addReconnectListener(resolve));
    client.initialize(wsUrl(app), alice.token);
    await until(() => messages.find((m) => m.event === 'hello'), 'hello');
    const connectionId = messages[0].data.connection_id;
    toAlice('e1');
    await until(() => messages.find((m) => m.data?.marker === 'e1'), 'e1');

    // The network drops; events keep coming while the client is away.
    sockets[0].close();
    toAlice('e2');
    toAlice('e3');
    await reconnected;
    await until(() => messages.find((m) => m.data?.marker === 'e3'), 'e3 after reconnect');
    toAlice('e4');
    await until(() => messages.find((m) => m.data?.marker === 'e4'), 'e4');

    expect(urls[1]).to.include(`connection_id=${connectionId}`).and.include('sequence_number=2');
    expect(missed).to.equal(0);
    expect(sockets).to.have.length(2);
    expect(messages.map((m) => m.data.marker ?? m.event)).to.deep.equal(['hello', 'e1', 'e2', 'e3', 'e4']);
    expect(messages.map((m) => m.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    client.close();
  });
});
