import { expect } from 'chai';
import type { Client4 } from '@mattermost/client';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, officialClient, quietOfficialClient, until, wsUrl, type RawSocket } from '../realtime/ws-clients.ts';

describe('collapsed reply threads through the official Client4', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let outsider: TestUser;
  let team: { id: string };
  let a: Client4;
  let b: Client4;
  let c: Client4;
  before(async () => {
    app = await bootApp();
    [alice, bob, carol, outsider] = await Promise.all([makeUser(app), makeUser(app), makeUser(app), makeUser(app)]);
    team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, carol.user, outsider.user] });
    [a, b, c] = [client4(app, alice.token), client4(app, bob.token), client4(app, carol.token)];
  });
  after(async () => app.close());

  const threadsOf = (client: Client4, opts: Partial<Parameters<Client4['getUserThreads']>[2]> = {}) => client.getUserThreads('me', team.id, { perPage: 30, ...opts });

  it('makes the root author, every replier and the mentioned follow, with unread replies and mentions per follower', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user, carol.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'Release notes draft' });
    expect((await threadsOf(a)).threads.map((t) => t.id), 'no thread before the first reply').to.not.include(root.id);

    await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'Looks good' });
    await b.createPost({ channel_id: channel.id, root_id: root.id, message: `@${carol.user.username} can you check the numbers?` });

    const forAlice = await threadsOf(a);
    const thread = forAlice.threads.find((t) => t.id === root.id)!;
    expect(thread, 'the root author follows').to.not.equal(undefined);
    expect(thread).to.include({ reply_count: 2, unread_replies: 2, unread_mentions: 0, is_following: true });
    expect(thread.post.id).to.equal(root.id);
    expect(thread.participants.map((p) => p.id)).to.deep.equal([bob.user.id]);
    expect(forAlice.total_unread_threads).to.be.greaterThan(0);

    const forBob = (await threadsOf(b)).threads.find((t) => t.id === root.id)!;
    expect(forBob, 'the replier follows').to.include({ unread_replies: 0, unread_mentions: 0 });

    const forCarol = await threadsOf(c);
    const carolThread = forCarol.threads.find((t) => t.id === root.id)!;
    expect(carolThread, 'the mentioned member follows').to.include({ unread_mentions: 1, is_following: true });
    expect(forCarol.total_unread_mentions).to.equal(1);

    // Replying marks the thread read for its author and clears their mentions.
    await c.createPost({ channel_id: channel.id, root_id: root.id, message: 'Done' });
    expect(await c.getUserThread('me', team.id, root.id)).to.include({ unread_replies: 0, unread_mentions: 0 });
    expect((await a.getUserThread('me', team.id, root.id, true)).participants.map((p) => (p as { username: string }).username))
      .to.deep.equal([bob.user.username, carol.user.username]);
  });

  it('marks a thread read, unread from a post, and all threads read', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'Incident review' });
    const first = await b.createPost({ channel_id: channel.id, root_id: root.id, message: `@${alice.user.username} timeline?` });
    await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'and the postmortem' });
    expect(await a.getUserThread('me', team.id, root.id)).to.include({ unread_replies: 2, unread_mentions: 1 });

    const read = await a.updateThreadReadForUser('me', team.id, root.id, Date.now());
    expect(read).to.include({ id: root.id, unread_replies: 0, unread_mentions: 0 });

    const unread = await a.markThreadAsUnreadForUser('me', team.id, root.id, first.id);
    expect(unread).to.include({ unread_replies: 2, unread_mentions: 1 });
    expect(unread.last_viewed_at).to.equal(first.create_at - 1);

    await a.updateThreadsReadForUser('me', team.id);
    const all = await threadsOf(a, { unread: true });
    expect(all.threads.map((t) => t.id)).to.not.include(root.id);
    expect(all.total_unread_mentions).to.equal(0);
  });

  it('stops and resumes following; a mention re-follows', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'Budget' });
    await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'Q3 numbers' });

    await a.updateThreadFollowForUser('me', team.id, root.id, false);
    expect((await threadsOf(a)).threads.map((t) => t.id)).to.not.include(root.id);
    expect(await statusOf(() => a.getUserThread('me', team.id, root.id))).to.equal(404);
    await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'more numbers' });
    expect((await threadsOf(a)).threads.map((t) => t.id), 'an unfollow stands when a reply comes').to.not.include(root.id);

    await b.createPost({ channel_id: channel.id, root_id: root.id, message: `@${alice.user.username} please approve` });
    expect(await a.getUserThread('me', team.id, root.id)).to.include({ is_following: true, unread_mentions: 1 });

    await a.updateThreadFollowForUser('me', team.id, root.id, false);
    await a.updateThreadFollowForUser('me', team.id, root.id, true);
    expect(await a.getUserThread('me', team.id, root.id), 'following again marks it read').to.include({ unread_replies: 0, unread_mentions: 0 });
  });

  it('pages threads by last reply with before and after, and answers totalsOnly and threadsOnly', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, carol.user] });
    const roots = [];
    for (let i = 0; i < 3; i++) {
      const root = await c.createPost({ channel_id: channel.id, message: `paging ${i}` });
      await a.createPost({ channel_id: channel.id, root_id: root.id, message: `reply ${i}` });
      roots.push(root.id);
    }
    const newest = await threadsOf(c, { perPage: 2 });
    expect(newest.threads.map((t) => t.id)).to.deep.equal([roots[2], roots[1]]);
    const older = await threadsOf(c, { perPage: 2, before: roots[1] });
    expect(older.threads[0].id).to.equal(roots[0]);
    const newer = await threadsOf(c, { perPage: 2, after: roots[0] });
    expect(newer.threads.map((t) => t.id)).to.deep.equal([roots[1], roots[2]]);

    const totals = await threadsOf(c, { totalsOnly: true });
    expect(totals.threads).to.have.length(0);
    expect(totals.total).to.be.greaterThanOrEqual(3);
    const only = await threadsOf(c, { threadsOnly: true, perPage: 1 });
    expect(only).to.include({ total: 0, total_unread_threads: 0 });
    expect(only.threads).to.have.length(1);
  });

  it('lists threads changed since a time, and deleted threads only when asked', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
    const old = await a.createPost({ channel_id: channel.id, message: 'old topic' });
    await b.createPost({ channel_id: channel.id, root_id: old.id, message: 'old reply' });
    const fresh = await a.createPost({ channel_id: channel.id, message: 'fresh topic' });
    const freshReply = await b.createPost({ channel_id: channel.id, root_id: fresh.id, message: 'fresh reply' });
    const since = await threadsOf(a, { since: freshReply.create_at });
    expect(since.threads.map((t) => t.id)).to.include(fresh.id).and.not.include(old.id);

    await a.deletePost(old.id);
    expect((await threadsOf(a)).threads.map((t) => t.id)).to.not.include(old.id);
    const withDeleted = await threadsOf(a, { deleted: true });
    const gone = withDeleted.threads.find((t) => t.id === old.id)!;
    expect((gone as unknown as { delete_at: number }).delete_at).to.be.greaterThan(0);
    expect(gone.post.message, 'a deleted root shows no content').to.equal('');
  });

  it('sends thread_updated, thread_follow_changed and thread_read_changed to the follower only, after the change', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
    const restore = quietOfficialClient();
    const alices = officialClient();
    let outsiderSocket: RawSocket | undefined;
    try {
      alices.client.initialize(wsUrl(app), alice.token);
      outsiderSocket = await connect(app, outsider.token);
      await until(() => alices.messages.find((m) => m.event === 'hello'), 'hello');
      const root = await a.createPost({ channel_id: channel.id, message: 'Launch plan' });
      const reply = await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'T-minus 3' });

      const updated = await until(() => alices.messages.find((m) => m.event === 'thread_updated'), 'thread_updated');
      const thread = JSON.parse(updated.data.thread);
      expect(thread).to.include({ id: root.id, reply_count: 1, unread_replies: 1, last_reply_at: reply.create_at });
      expect(updated.broadcast.team_id).to.equal(team.id);

      await a.updateThreadFollowForUser('me', team.id, root.id, false);
      const follow = await until(() => alices.messages.find((m) => m.event === 'thread_follow_changed'), 'thread_follow_changed');
      expect(follow.data).to.include({ thread_id: root.id, state: false, reply_count: 1 });
      await a.updateThreadFollowForUser('me', team.id, root.id, true);
      await a.updateThreadReadForUser('me', team.id, root.id, reply.create_at);
      const read = await until(() => alices.messages.find((m) => m.event === 'thread_read_changed'), 'thread_read_changed');
      expect(read.data).to.include({ thread_id: root.id, timestamp: reply.create_at, channel_id: channel.id, unread_replies: 0 });

      expect(outsiderSocket.events.map((e) => e.event)).to.not.include.members(['thread_updated', 'thread_follow_changed', 'thread_read_changed']);
    } finally {
      alices.client.close();
      outsiderSocket?.close();
      restore();
    }
  });

  it('takes a deleted reply out of the thread: counts, last reply, unread state and mentions, told by thread_updated', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user, carol.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'Incident review' });
    const first = await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'Timeline is in the doc' });
    await a.updateThreadReadForUser('me', team.id, root.id, first.create_at);
    const carolSocket = await connect(app, carol.token);
    const aliceSocket = await connect(app, alice.token);
    try {
      const mention = await b.createPost({ channel_id: channel.id, root_id: root.id, message: `@${carol.user.username} @${alice.user.username} please add the pager log` });
      expect(await c.getUserThread('me', team.id, root.id)).to.include({ reply_count: 2, unread_mentions: 1, unread_replies: 2 });
      expect(await a.getUserThread('me', team.id, root.id)).to.include({ unread_mentions: 1, unread_replies: 1, last_reply_at: mention.create_at });

      await b.deletePost(mention.id);
      const toCarol = await carolSocket.waitFor((f) => f.event === 'thread_updated' && JSON.parse(f.data.thread).reply_count === 1, 'thread_updated after the deletion (carol)');
      expect(JSON.parse(toCarol.data.thread)).to.include({ id: root.id, reply_count: 1, unread_mentions: 0, unread_replies: 1, last_reply_at: first.create_at });
      expect(toCarol.data).to.include({ previous_unread_mentions: 1, previous_unread_replies: 2 });
      const toAlice = await aliceSocket.waitFor((f) => f.event === 'thread_updated' && JSON.parse(f.data.thread).reply_count === 1, 'thread_updated after the deletion (alice)');
      expect(JSON.parse(toAlice.data.thread)).to.include({ unread_mentions: 0, unread_replies: 0 });

      const forAlice = await a.getUserThread('me', team.id, root.id);
      expect(forAlice, 'read up to the reply left: nothing unread any more').to.include({ reply_count: 1, unread_replies: 0, unread_mentions: 0, last_reply_at: first.create_at });
      expect((await threadsOf(a, { unread: true })).threads.map((t) => t.id)).to.not.include(root.id);
      expect(await c.getUserThread('me', team.id, root.id)).to.include({ reply_count: 1, unread_mentions: 0, unread_replies: 1 });
      expect((await a.getPost(root.id)).reply_count).to.equal(1);

      await b.deletePost(first.id);
      const root0 = await a.getPost(root.id);
      expect(root0).to.include({ reply_count: 0, last_reply_at: 0 });
      expect((await threadsOf(c)).threads.map((t) => t.id), 'a thread without replies leaves the list').to.not.include(root.id);
      await carolSocket.waitFor((f) => f.event === 'thread_updated' && JSON.parse(f.data.thread).reply_count === 0, 'thread_updated after the last reply went');
    } finally {
      carolSocket.close();
      aliceSocket.close();
    }
  });

  it('hides the threads of a channel the user was removed from, and refuses its thread', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'Private plans' });
    await a.createPost({ channel_id: channel.id, root_id: root.id, message: `@${bob.user.username} thoughts?` });
    expect((await threadsOf(b)).threads.map((t) => t.id)).to.include(root.id);

    await a.removeFromChannel(bob.user.id, channel.id);
    const after = await threadsOf(b);
    expect(after.threads.map((t) => t.id)).to.not.include(root.id);
    expect(after.total_unread_mentions, 'its mentions no longer count').to.equal(0);
    expect(await statusOf(() => b.getUserThread('me', team.id, root.id))).to.equal(403);
    expect(await statusOf(() => b.updateThreadFollowForUser('me', team.id, root.id, true))).to.equal(403);
  });

  it('refuses other users, outsiders and bad input with Mattermost error JSON', async () => {
    const channel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'secret' });
    const reply = await b.createPost({ channel_id: channel.id, root_id: root.id, message: 'reply' });
    const o = client4(app, outsider.token);

    expect(await statusOf(() => o.getUserThreads(alice.user.id, team.id, {})), "another user's threads").to.equal(403);
    expect(await statusOf(() => o.getUserThread('me', team.id, root.id)), 'a thread in a channel one cannot read').to.equal(403);
    expect(await statusOf(() => o.updateThreadFollowForUser('me', team.id, root.id, true))).to.equal(403);
    expect(await statusOf(() => o.markThreadAsUnreadForUser('me', team.id, root.id, reply.id))).to.equal(403);
    expect(await statusOf(() => a.getUserThread('me', team.id, reply.id)), 'a reply is not a thread').to.equal(404);
    const otherTeam = await makeTeam(app.ownerDb, { type: 'I', members: [bob.user] });
    expect(await statusOf(() => a.getUserThreads('me', otherTeam.id, {})), "a team one cannot see").to.equal(404);

    const auth = { token: alice.token };
    const unauthenticated = await request(app, 'GET', `/api/v4/users/me/teams/${team.id}/threads`);
    expect(unauthenticated.status).to.equal(401);
    for (const [method, path] of [
      ['GET', `/api/v4/users/me/teams/${team.id}/threads?per_page=0`],
      ['GET', `/api/v4/users/me/teams/${team.id}/threads?before=nope`],
      ['GET', `/api/v4/users/me/teams/${team.id}/threads?unread=maybe`],
      ['GET', `/api/v4/users/me/teams/not-an-id/threads`],
      ['PUT', `/api/v4/users/me/teams/${team.id}/threads/${root.id}/read/yesterday`],
      ['PUT', `/api/v4/users/me/teams/${team.id}/threads/${root.id}/read/-5`],
      ['POST', `/api/v4/users/me/teams/${team.id}/threads/${root.id}/set_unread/bad`],
    ] as const) {
      const res = await request(app, method, path, auth);
      expect(res.status, `${method} ${path}`).to.equal(400);
      expect(res.json).to.include.keys('id', 'message', 'status_code');
    }
    const stranger = await a.createPost({ channel_id: channel.id, message: 'another root' });
    const wrongPost = await request(app, 'POST', `/api/v4/users/me/teams/${team.id}/threads/${root.id}/set_unread/${stranger.id}`, auth);
    expect(wrongPost.status, 'a post of another thread').to.equal(400);
  });
});
