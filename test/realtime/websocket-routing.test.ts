import { expect } from 'chai';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, publishAndSettle, seqsAreContinuous, settle, stalledSocket, until, type RawSocket } from './ws-clients.ts';

describe('WebSocket: who receives which event', () => {
  let app: TestApp;
  // alice and bob share a channel; carol is on their team but not in the channel; dave is on another
  // team; erin left the team (team_members.delete_at set).
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser;
  let teamId: string;
  let channelId: string;
  let sockets: Record<'alice' | 'bob' | 'carol' | 'dave' | 'erin', RawSocket>;

  const observer = (name: keyof typeof sockets) => ({ socket: sockets[name], userId: { alice, bob, carol, dave, erin }[name].user.id });
  const everyone = () => (['alice', 'bob', 'carol', 'dave', 'erin'] as const).map(observer);
  const posted = (marker: string) => ({
    event: 'posted',
    data: { marker, post: JSON.stringify({ id: marker, channel_id: channelId, message: `secret ${marker}` }), channel_type: 'O' },
    broadcast: { channel_id: channelId },
  });

  before(async () => {
    app = await bootApp();
    [alice, bob, carol, dave, erin] = await Promise.all([makeUser(app), makeUser(app), makeUser(app), makeUser(app), makeUser(app)]);
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, carol.user, erin.user] });
    teamId = team.id;
    await app.ownerDb('team_members').where({ team_id: teamId, user_id: erin.user.id }).update({ delete_at: Date.now() });
    await makeTeam(app.ownerDb, { members: [dave.user] });
    channelId = (await makeChannel(app.ownerDb, teamId, { members: [alice.user, bob.user] })).id;
    sockets = {
      alice: await connect(app, alice.token),
      bob: await connect(app, bob.token),
      carol: await connect(app, carol.token),
      dave: await connect(app, dave.token),
      erin: await connect(app, erin.token),
    };
  });
  after(async () => {
    for (const socket of Object.values(sockets)) socket.close();
    await app.close();
  });

  it('delivers a channel event to its members only, not to teammates outside it or other teams', async () => {
    await publishAndSettle(app, posted('p1'), everyone());
    const got = await sockets.alice.event('posted', 'p1');
    expect(JSON.parse(got.data.post).message).to.equal('secret p1');
    expect(got.broadcast.channel_id).to.equal(channelId);
    expect(sockets.bob.hasEvent('posted', 'p1')).to.equal(true);
    expect(sockets.carol.hasEvent('posted', 'p1')).to.equal(false);
    expect(sockets.dave.hasEvent('posted', 'p1')).to.equal(false);
    expect(sockets.erin.hasEvent('posted', 'p1')).to.equal(false);
  });

  it('leaves out omit_users', async () => {
    await publishAndSettle(app, { ...posted('p2'), broadcast: { channel_id: channelId, omit_users: { [bob.user.id]: true } } }, everyone());
    expect(sockets.alice.hasEvent('posted', 'p2')).to.equal(true);
    expect(sockets.bob.hasEvent('posted', 'p2')).to.equal(false);
  });

  it('delivers a team event to current team members only', async () => {
    await publishAndSettle(app, { event: 'update_team', data: { marker: 't1' }, broadcast: { team_id: teamId } }, everyone());
    expect(['alice', 'bob', 'carol', 'dave', 'erin'].filter((n) => sockets[n as keyof typeof sockets].hasEvent('update_team', 't1'))).to.deep.equal(['alice', 'bob', 'carol']);
  });

  it('delivers a user event to that user only', async () => {
    await publishAndSettle(app, { event: 'preferences_changed', data: { marker: 'u1' }, broadcast: { user_id: carol.user.id } }, everyone());
    expect(['alice', 'bob', 'carol', 'dave', 'erin'].filter((n) => sockets[n as keyof typeof sockets].hasEvent('preferences_changed', 'u1'))).to.deep.equal(['carol']);
  });

  it('relays typing from a member to the other members, not back to the sender', async () => {
    const reply = await sockets.alice.request('user_typing', { channel_id: channelId, parent_id: '' });
    expect(reply.status).to.equal('OK');
    const typing = await sockets.bob.waitFor((f) => f.event === 'typing' && f.data.user_id === alice.user.id, 'typing at bob');
    expect(typing.data).to.deep.equal({ parent_id: '', user_id: alice.user.id });
    expect(typing.broadcast.channel_id).to.equal(channelId);
    await settle(app, [observer('alice'), observer('carol')]);
    expect(sockets.alice.hasEvent('typing')).to.equal(false);
    expect(sockets.carol.hasEvent('typing')).to.equal(false);
  });

  it('refuses typing from a non-member and tells nobody', async () => {
    const before = sockets.bob.events.filter((e) => e.event === 'typing').length;
    const reply = await sockets.carol.request('user_typing', { channel_id: channelId, parent_id: '' });
    expect(reply.status).to.equal('FAIL');
    expect(reply.error.status_code).to.equal(403);
    await settle(app, [observer('alice'), observer('bob')]);
    expect(sockets.bob.events.filter((e) => e.event === 'typing').length).to.equal(before);
    expect(sockets.alice.hasEvent('typing')).to.equal(false);
  });

  it('stops delivering a channel’s events to a member as soon as user_removed is published', async () => {
    await publishAndSettle(app, posted('before-removal'), [observer('alice'), observer('bob')]);
    expect(sockets.bob.hasEvent('posted', 'before-removal')).to.equal(true);

    await app.ownerDb('channel_members').where({ channel_id: channelId, user_id: bob.user.id }).delete();
    app.services.events.publish({ event: 'user_removed', data: { user_id: bob.user.id, remover_id: alice.user.id }, broadcast: { channel_id: channelId } });
    app.services.events.publish({ event: 'user_removed', data: { channel_id: channelId, remover_id: alice.user.id }, broadcast: { user_id: bob.user.id } });
    await publishAndSettle(app, posted('after-removal'), [observer('alice'), observer('bob')]);
    expect(sockets.alice.hasEvent('posted', 'after-removal')).to.equal(true);
    expect(sockets.bob.hasEvent('posted', 'after-removal')).to.equal(false);
    await sockets.bob.waitFor((f) => f.event === 'user_removed' && f.data.channel_id === channelId, 'own removal');

    const typing = await sockets.bob.request('user_typing', { channel_id: channelId, parent_id: '' });
    expect(typing.status).to.equal('FAIL');
  });

  it('starts delivering to a member added later once user_added is published', async () => {
    await app.ownerDb('channel_members').insert({ channel_id: channelId, user_id: carol.user.id, last_update_at: Date.now() });
    app.services.events.publish({ event: 'user_added', data: { user_id: carol.user.id, team_id: teamId }, broadcast: { channel_id: channelId } });
    await publishAndSettle(app, posted('after-add'), [observer('carol')]);
    expect(sockets.carol.hasEvent('posted', 'after-add')).to.equal(true);
  });

  it('drops a client that stops reading instead of buffering without bound; readers get everything', async () => {
    const hub = app.services.realtime;
    const openBefore = hub.stats().open;
    const stalled = await stalledSocket(app, carol.token);
    await until(() => hub.stats().open === openBefore + 1, 'the stalled socket to register');
    const big = 'x'.repeat(256 * 1024);
    const count = Math.ceil((hub.settings.maxBufferedBytes * 3) / big.length);
    for (let i = 0; i < count; i++) app.services.events.publish({ event: 'preferences_changed', data: { marker: `big${i}`, big }, broadcast: { team_id: teamId } });
    await until(() => hub.stats().open === openBefore, 'the stalled socket to be dropped', 10_000);
    await sockets.alice.event('preferences_changed', `big${count - 1}`);
    expect(sockets.alice.events.filter((e) => e.data.big).length).to.equal(count);
    stalled.destroy();
  });

  it('kept every connection’s seq continuous throughout', () => {
    for (const socket of Object.values(sockets)) expect(seqsAreContinuous(socket.events)).to.equal(true);
  });
});
