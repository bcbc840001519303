import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeUser, type TestUser } from '../support/factories.ts';
import { officialClient, quietOfficialClient, until, wsUrl } from '../realtime/ws-clients.ts';

describe('messaging through the official Mattermost Client4', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    app = await bootApp();
    alice = await makeUser(app, { username: 'alice' });
    bob = await makeUser(app, { username: 'bob' });
  });
  after(async () => app.close());

  it('logs in with a password and gets a session token, cookies and the user', async () => {
    const client = client4(app);
    const me = await client.login('alice', alice.password);
    expect(me.username).to.equal('alice');
    expect((me as unknown as Record<string, unknown>).password_hash).to.equal(undefined);
    expect(client.getToken()).to.match(/^[a-z0-9]{26}$/);
    expect((await client.getMe()).id).to.equal(alice.user.id);
    const raw = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'alice@example.com', password: alice.password } });
    const cookies = raw.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('MMAUTHTOKEN='))).to.match(/HttpOnly/);
    expect(cookies.find((c) => c.startsWith('MMCSRF='))).to.not.match(/HttpOnly/);
    expect(raw.headers.get('token')).to.match(/^[a-z0-9]{26}$/);
  });

  it('refuses a wrong password with 401 and logs out a session for good', async () => {
    expect(await statusOf(() => client4(app).login('alice', 'wrong-password'))).to.equal(401);
    const client = client4(app);
    await client.login('bob', bob.password);
    await client.logout();
    expect(await statusOf(() => client.getMe())).to.equal(401);
  });

  it('runs a conversation: team, channels, posts, replies, edits, deletes, reactions, paging', async () => {
    const a = client4(app);
    await a.login('alice', alice.password);
    const b = client4(app);
    await b.login('bob', bob.password);

    const team = await a.createTeam({ name: 'engineering', display_name: 'Engineering', type: 'O' } as never);
    expect(team.name).to.equal('engineering');
    expect((await a.getMyTeams()).map((t) => t.id)).to.include(team.id);
    await a.addToTeam(team.id, bob.user.id);

    const channel = await a.createChannel({ team_id: team.id, name: 'release', display_name: 'Release', type: 'O' });
    await b.addToChannel(bob.user.id, channel.id);
    const myChannels = await b.getMyChannels(team.id);
    expect(myChannels.map((c) => c.name)).to.include.members(['town-square', 'off-topic', 'release']);

    const root = await a.createPost({ channel_id: channel.id, message: 'Shipping 1.0 today #release @bob' });
    expect(root.hashtags).to.equal('#release');
    const reply = await b.createPost({ channel_id: channel.id, message: 'LGTM', root_id: root.id });
    const thread = await a.getPostThread(root.id);
    expect(thread.order).to.have.members([root.id, reply.id]);

    const edited = await a.patchPost({ id: root.id, message: 'Shipping 1.0 tomorrow' });
    expect(edited.message).to.equal('Shipping 1.0 tomorrow');
    expect(edited.edit_at).to.be.greaterThan(0);
    const history = await a.getPostEditHistory(root.id);
    expect(history.map((p) => p.message)).to.deep.equal(['Shipping 1.0 today #release @bob']);

    await b.addReaction(bob.user.id, root.id, 'thumbsup');
    expect((await a.getReactionsForPost(root.id)).map((r) => r.emoji_name)).to.deep.equal(['thumbsup']);
    await b.removeReaction(bob.user.id, root.id, 'thumbsup');
    expect(await a.getReactionsForPost(root.id)).to.have.length(0);

    for (let i = 0; i < 7; i++) await a.createPost({ channel_id: channel.id, message: `post ${i}` });
    const page0 = await b.getPosts(channel.id, 0, 4);
    expect(page0.order).to.have.length(4);
    expect((page0.posts[page0.order[0]] as { message: string }).message).to.equal('post 6');
    const page1 = await b.getPosts(channel.id, 1, 4);
    expect((page1.posts[page1.order[0]] as { message: string }).message).to.equal('post 2');
    expect(page0.prev_post_id).to.equal(page1.order[0]);
    const before = await b.getPostsBefore(channel.id, page0.order[3], 0, 2);
    expect(before.order).to.deep.equal(page1.order.slice(0, 2));

    await b.deletePost(reply.id);
    expect(await statusOf(() => a.getPost(reply.id))).to.equal(404);
    const stored = await app.ownerDb('post_versions').where({ post_id: reply.id });
    expect(stored.map((v) => v.message), 'the deleted text is preserved for compliance').to.deep.equal(['LGTM']);
    expect(await statusOf(() => b.patchPost({ id: root.id, message: 'hijack' }))).to.equal(403);
  });

  it('delivers a post to a second user over the official WebSocketClient, and nothing to a non-member', async () => {
    const restore = quietOfficialClient();
    const a = client4(app, alice.token);
    const team = await a.createTeam({ name: 'live-team', display_name: 'Live', type: 'O' } as never);
    await a.addToTeam(team.id, bob.user.id);
    const channel = await a.createChannel({ team_id: team.id, name: 'live', display_name: 'Live', type: 'P' });
    await a.addToChannel(bob.user.id, channel.id);
    const outsider = await makeUser(app);
    await a.addToTeam(team.id, outsider.user.id);
    const bobSocket = officialClient();
    const outsiderSocket = officialClient();
    try {
      bobSocket.client.initialize(wsUrl(app), bob.token);
      outsiderSocket.client.initialize(wsUrl(app), outsider.token);
      await until(() => bobSocket.messages.find((m) => m.event === 'hello') && outsiderSocket.messages.find((m) => m.event === 'hello'), 'hello on both sockets');
      const post = await a.createPost({ channel_id: channel.id, message: 'live update @bob' });
      const posted = await until(() => bobSocket.messages.find((m) => m.event === 'posted'), 'posted event');
      const delivered = JSON.parse(posted.data.post);
      expect(delivered.id).to.equal(post.id);
      expect(delivered.message).to.equal('live update @bob');
      expect(JSON.parse(posted.data.mentions)).to.deep.equal([bob.user.id]);
      expect(posted.broadcast.channel_id).to.equal(channel.id);
      await a.createPost({ channel_id: channel.id, message: 'second' });
      await until(() => bobSocket.messages.filter((m) => m.event === 'posted').length === 2, 'second posted event');
      expect(outsiderSocket.messages.filter((m) => m.event === 'posted'), 'a non-member of the private channel hears nothing').to.have.length(0);
    } finally {
      bobSocket.client.close();
      outsiderSocket.client.close();
      restore();
    }
  });

  it('attaches an uploaded file to a post and shows it in the post metadata', async () => {
    const a = client4(app, alice.token);
    const team = await a.createTeam({ name: 'files-team', display_name: 'Files', type: 'O' } as never);
    const channel = await a.createChannel({ team_id: team.id, name: 'files', display_name: 'Files', type: 'O' });
    const form = new FormData();
    form.append('channel_id', channel.id);
    form.append('files', new Blob(['quarterly numbers\n']), 'report.txt');
    const uploaded = await a.uploadFile(form);
    const fileId = uploaded.file_infos[0].id;
    const post = await a.createPost({ channel_id: channel.id, message: 'see attached', file_ids: [fileId] });
    expect(post.file_ids).to.deep.equal([fileId]);
    const infos = await a.getFileInfosForPost(post.id);
    expect(infos.map((f) => f.name)).to.deep.equal(['report.txt']);
    const listed = await a.getPosts(channel.id);
    expect((listed.posts[post.id] as { metadata: { files: { id: string }[] } }).metadata.files.map((f) => f.id)).to.deep.equal([fileId]);
    const reuse = await statusOf(() => a.createPost({ channel_id: channel.id, message: 'again', file_ids: [fileId] }));
    expect(reuse, 'a file belongs to one post').to.equal(400);
  });

  it('opens direct and group messages once, whoever opens them', async () => {
    const a = client4(app, alice.token);
    const b = client4(app, bob.token);
    const carol = await makeUser(app);
    const dm1 = await a.createDirectChannel([alice.user.id, bob.user.id]);
    const dm2 = await b.createDirectChannel([bob.user.id, alice.user.id]);
    expect(dm1.id).to.equal(dm2.id);
    expect(dm1.type).to.equal('D');
    const gm = await a.createGroupChannel([bob.user.id, carol.user.id]);
    expect(gm.type).to.equal('G');
    await b.createPost({ channel_id: dm1.id, message: 'psst' });
    const unread = await request(app, 'GET', `/api/v4/users/me/channels/${dm1.id}/unread`, { token: alice.token });
    expect(unread.json).to.include({ msg_count: 1, mention_count: 1 });
    await a.viewMyChannel(dm1.id);
    const after = await request(app, 'GET', `/api/v4/users/me/channels/${dm1.id}/unread`, { token: alice.token });
    expect(after.json).to.include({ msg_count: 0, mention_count: 0 });
  });
});
