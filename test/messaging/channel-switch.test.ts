import { expect } from 'chai';
import { request, type TestApp } from '../support/app.ts';
import { makeChannel, makeUser, type TestUser } from '../support/factories.ts';
import { bootWithTwoTeammates } from '../support/teammates.ts';

// A channel switch (view, stats) and reopening a direct channel are answered from memory or in one
// statement; these pin down that what a user sees and may do still changes the moment their
// membership or profile does.
describe('channel switch: view, stats, direct channels and the caller', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let teamId: string;

  before(async () => ({ app, alice, bob, teamId } = await bootWithTwoTeammates()));
  after(async () => app.close());

  const view = (who: TestUser, channelId: string) => request(app, 'POST', '/api/v4/channels/members/me/view', { token: who.token, body: { channel_id: channelId } });
  const stats = (who: TestUser, channelId: string) => request(app, 'GET', `/api/v4/channels/${channelId}/stats`, { token: who.token });

  it('marks the channel read: unread messages drop to zero', async () => {
    const channelId = (await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user, bob.user] })).id;
    for (const message of ['one', 'two']) await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: channelId, message } });
    const unread = () => request(app, 'GET', `/api/v4/users/me/channels/${channelId}/unread`, { token: bob.token });
    expect((await unread()).json.msg_count).to.equal(2);
    const res = await view(bob, channelId);
    expect(res.status).to.equal(200);
    expect(res.json.last_viewed_at_times[channelId]).to.be.a('number');
    expect((await unread()).json).to.include({ msg_count: 0, mention_count: 0, last_viewed_at: res.json.last_viewed_at_times[channelId] });
  });

  it('refuses view and stats of a private channel right after the user left it', async () => {
    const channelId = (await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user, bob.user] })).id;
    expect((await view(bob, channelId)).status).to.equal(200);
    expect((await stats(bob, channelId)).status).to.equal(200);
    expect((await request(app, 'DELETE', `/api/v4/channels/${channelId}/members/me`, { token: bob.token })).status).to.equal(200);
    expect((await view(bob, channelId)).status).to.equal(403);
    expect((await stats(bob, channelId)).status).to.equal(403);
  });

  it('lets a user added to a private channel view it at once, after a refusal', async () => {
    const channelId = (await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user] })).id;
    expect((await stats(bob, channelId)).status).to.equal(403);
    expect((await request(app, 'POST', `/api/v4/channels/${channelId}/members`, { token: alice.token, body: { user_id: bob.user.id } })).status).to.equal(201);
    expect((await stats(bob, channelId)).status).to.equal(200);
    expect((await view(bob, channelId)).status).to.equal(200);
  });

  it('counts members and pinned posts as they are now', async () => {
    const channelId = (await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user] })).id;
    expect((await stats(alice, channelId)).json).to.include({ channel_id: channelId, member_count: 1, pinnedpost_count: 0 });
    const post = await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: channelId, message: 'pin me' } });
    expect((await request(app, 'POST', `/api/v4/posts/${post.json.id}/pin`, { token: alice.token })).status).to.equal(200);
    expect((await request(app, 'POST', `/api/v4/channels/${channelId}/members`, { token: bob.token, body: { user_id: bob.user.id } })).status).to.equal(201);
    expect((await stats(alice, channelId)).json).to.include({ member_count: 2, pinnedpost_count: 1 });
  });

  it('reopens the same direct channel from either side, and refuses it once the other user is deactivated', async () => {
    const carol = await makeUser(app);
    const open = (who: TestUser, other: TestUser) => request(app, 'POST', '/api/v4/channels/direct', { token: who.token, body: [who.user.id, other.user.id] });
    const first = await open(alice, carol);
    expect(first.status).to.equal(201);
    expect((await open(alice, carol)).json.id).to.equal(first.json.id);
    expect((await open(carol, alice)).json).to.include({ id: first.json.id, type: 'D' });
    await app.ownerDb('users').where({ id: carol.user.id }).update({ delete_at: Date.now() });
    expect((await open(alice, carol)).status).to.equal(400);
  });

  it('shows the authors of a page (POST /users/ids) as they are now: a renamed or deactivated user at once', async () => {
    const dave = await makeUser(app);
    const ids = () => request(app, 'POST', '/api/v4/users/ids', { token: bob.token, body: [dave.user.id, alice.user.id] });
    const first = await ids();
    expect(first.json.map((u: { id: string }) => u.id).sort()).to.deep.equal([dave.user.id, alice.user.id].sort());
    expect((await request(app, 'PUT', '/api/v4/users/me/patch', { token: dave.token, body: { nickname: 'Davy' } })).status).to.equal(200);
    const renamed = (await ids()).json.find((u: { id: string }) => u.id === dave.user.id);
    expect(renamed).to.include({ nickname: 'Davy', delete_at: 0 });
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    expect((await request(app, 'DELETE', `/api/v4/users/${dave.user.id}`, { token: admin.token })).status).to.equal(200);
    const gone = (await ids()).json.find((u: { id: string }) => u.id === dave.user.id);
    expect(gone.delete_at).to.be.above(0);
  });

  it('shows the caller their own profile change at once in GET /users/me', async () => {
    expect((await request(app, 'GET', '/api/v4/users/me', { token: alice.token })).json.id).to.equal(alice.user.id);
    const patched = await request(app, 'PUT', '/api/v4/users/me/patch', { token: alice.token, body: { nickname: 'Al' } });
    expect(patched.status).to.equal(200);
    const me = await request(app, 'GET', '/api/v4/users/me', { token: alice.token });
    expect(me.json).to.include({ id: alice.user.id, nickname: 'Al', email: alice.user.email });
  });
});
