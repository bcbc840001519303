import { expect } from 'chai';
import { bootApp, type TestApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, settle, type Frame, type RawSocket } from './ws-clients.ts';

// Mattermost sends some events in two versions: members hear that a post was deleted, and only system
// admins hear who deleted it (a moderator's identity is not every member's business).
describe('WebSocket: events with an admins-only version', () => {
  let app: TestApp;
  let admin: TestUser, alice: TestUser, bob: TestUser, outsider: TestUser;
  let channelId: string;
  let sockets: Record<'admin' | 'alice' | 'bob' | 'outsider', RawSocket>;

  const observers = () => (['admin', 'alice', 'bob', 'outsider'] as const).map((name) => ({ socket: sockets[name], userId: { admin, alice, bob, outsider }[name].user.id }));
  const deletionsOf = (socket: RawSocket, postId: string): Frame[] =>
    socket.events.filter((e) => e.event === 'post_deleted' && JSON.parse(e.data.post).id === postId);

  /** Bob posts and deletes; returns the post id once every socket has had the chance to hear of it. */
  async function bobDeletesAPost(): Promise<string> {
    const b = client4(app, bob.token);
    const post = await b.createPost({ channel_id: channelId, message: 'posted in haste' });
    await b.deletePost(post.id);
    await app.services.realtime.settled();
    await settle(app, observers());
    return post.id;
  }

  before(async () => {
    app = await bootApp();
    [admin, alice, bob, outsider] = await Promise.all([makeUser(app, { roles: 'system_user system_admin' }), makeUser(app), makeUser(app), makeUser(app)]);
    const team = await makeTeam(app.ownerDb, { members: [admin.user, alice.user, bob.user, outsider.user] });
    channelId = (await makeChannel(app.ownerDb, team.id, { type: 'P', members: [admin.user, alice.user, bob.user] })).id;
    sockets = { admin: await connect(app, admin.token), alice: await connect(app, alice.token), bob: await connect(app, bob.token), outsider: await connect(app, outsider.token) };
  });
  after(async () => {
    for (const socket of Object.values(sockets)) socket.close();
    await app.close();
  });

  it('tells members a post was deleted without saying by whom, and system admins by whom, once each', async () => {
    const postId = await bobDeletesAPost();
    for (const member of [sockets.alice, sockets.bob]) {
      const heard = deletionsOf(member, postId);
      expect(heard).to.have.length(1);
      expect(heard[0].data).to.not.have.property('delete_by');
      expect(JSON.parse(heard[0].data.post).delete_at).to.be.greaterThan(0);
      expect(heard[0].broadcast.channel_id).to.equal(channelId);
    }
    const toAdmin = deletionsOf(sockets.admin, postId);
    expect(toAdmin).to.have.length(1);
    expect(toAdmin[0].data.delete_by).to.equal(bob.user.id);
    expect(deletionsOf(sockets.outsider, postId), 'not a member of the private channel').to.have.length(0);
  });

  it('sends user_role_updated on a role change, and the new standing applies to the next event at once', async () => {
    const adminClient = client4(app, admin.token);
    await adminClient.updateUserRoles(alice.user.id, 'system_user system_admin');
    const update = await sockets.alice.waitFor((f) => f.event === 'user_role_updated', 'user_role_updated at alice');
    expect(update.data).to.deep.equal({ user_id: alice.user.id, roles: 'system_user system_admin' });
    expect(update.broadcast.user_id).to.equal(alice.user.id);
    expect(sockets.bob.hasEvent('user_role_updated'), 'only the user concerned hears of it').to.equal(false);

    const promoted = await bobDeletesAPost();
    expect(deletionsOf(sockets.alice, promoted).map((e) => e.data.delete_by)).to.deep.equal([bob.user.id]);

    await adminClient.updateUserRoles(alice.user.id, 'system_user');
    const demoted = await bobDeletesAPost();
    expect(deletionsOf(sockets.alice, demoted).map((e) => e.data.delete_by)).to.deep.equal([undefined]);
  });

  it('takes a standing granted outside the API (directory groups) from the periodic session re-check', async () => {
    await app.ownerDb('users').where({ id: alice.user.id }).update({ group_roles: 'system_admin' });
    await app.services.realtime.revalidateSessions();
    const granted = await bobDeletesAPost();
    expect(deletionsOf(sockets.alice, granted).map((e) => e.data.delete_by)).to.deep.equal([bob.user.id]);

    await app.ownerDb('users').where({ id: alice.user.id }).update({ group_roles: '' });
    await app.services.realtime.revalidateSessions();
    const withdrawn = await bobDeletesAPost();
    expect(deletionsOf(sockets.alice, withdrawn).map((e) => e.data.delete_by)).to.deep.equal([undefined]);
  });
});
