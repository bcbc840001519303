import { expect } from 'chai';
import type { TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, type TestUser } from '../support/factories.ts';
import { bootWithTwoTeammates } from '../support/teammates.ts';

// The write path of a post is one statement that re-checks what a cached access decision assumed.
// These tests change the database behind the server's back (no event, so caches stay stale) and
// expect the post to be refused with nothing written.
describe('creating a post', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let teamId: string;

  before(async () => ({ app, alice, bob, teamId } = await bootWithTwoTeammates({ alice: 'alice-writer', bob: 'bob-reader' })));
  after(async () => app.close());

  const member = (channelId: string, userId: string) => app.ownerDb('channel_members').where({ channel_id: channelId, user_id: userId }).first();
  const postCount = async (channelId: string) => Number((await app.ownerDb('posts').where({ channel_id: channelId }).count({ n: '*' }))[0].n);

  it('moves the channel counters, marks it read for the author and counts mentions, roots and replies apart', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user, bob.user] });
    const a = client4(app, alice.token);
    const root = await a.createPost({ channel_id: channel.id, message: 'hello @bob-reader and `@alice-writer`' } as never);
    await a.createPost({ channel_id: channel.id, message: 'no mention here', root_id: root.id } as never);
    await a.createPost({ channel_id: channel.id, message: '@channel look', root_id: root.id } as never);

    const c = await app.ownerDb('channels').where({ id: channel.id }).first();
    expect([Number(c.total_msg_count), Number(c.total_msg_count_root)]).to.deep.equal([3, 1]);
    const mine = await member(channel.id, alice.user.id);
    expect([Number(mine.msg_count), Number(mine.msg_count_root), Number(mine.mention_count)]).to.deep.equal([3, 1, 0]);
    const theirs = await member(channel.id, bob.user.id);
    expect([Number(theirs.mention_count), Number(theirs.mention_count_root)]).to.deep.equal([2, 1]);
    const stored = await app.ownerDb('posts').where({ id: root.id }).first();
    expect([stored.reply_count, Number(stored.last_reply_at) > 0]).to.deep.equal([2, true]);
  });

  it('refuses a member whose membership vanished while the access decision was cached', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user, bob.user] });
    const b = client4(app, bob.token);
    await b.createPost({ channel_id: channel.id, message: 'warms the access cache' } as never);
    await app.ownerDb('channel_members').where({ channel_id: channel.id, user_id: bob.user.id }).delete();
    expect(await statusOf(() => b.createPost({ channel_id: channel.id, message: 'should not land' } as never))).to.equal(403);
    expect(await postCount(channel.id)).to.equal(1);
    expect(Number((await app.ownerDb('channels').where({ id: channel.id }).first()).total_msg_count)).to.equal(1);
  });

  it('refuses a post to a channel archived while the access decision was cached', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user] });
    const a = client4(app, alice.token);
    await a.createPost({ channel_id: channel.id, message: 'warms the access cache' } as never);
    await app.ownerDb('channels').where({ id: channel.id }).update({ delete_at: Date.now() });
    expect(await statusOf(() => a.createPost({ channel_id: channel.id, message: 'should not land' } as never))).to.equal(403);
    expect(await postCount(channel.id)).to.equal(1);
  });

  it('refuses a reply to a deleted root, a reply, or a root in another channel, without touching the thread', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user] });
    const elsewhere = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user] });
    const a = client4(app, alice.token);
    const root = await a.createPost({ channel_id: channel.id, message: 'root' } as never);
    const reply = await a.createPost({ channel_id: channel.id, message: 'reply', root_id: root.id } as never);
    const foreign = await a.createPost({ channel_id: elsewhere.id, message: 'other root' } as never);
    expect(await statusOf(() => a.createPost({ channel_id: channel.id, message: 'x', root_id: reply.id } as never))).to.equal(400);
    expect(await statusOf(() => a.createPost({ channel_id: channel.id, message: 'x', root_id: foreign.id } as never))).to.equal(400);
    await app.ownerDb('posts').where({ id: root.id }).update({ delete_at: Date.now() });
    expect(await statusOf(() => a.createPost({ channel_id: channel.id, message: 'x', root_id: root.id } as never))).to.equal(400);
    expect(await postCount(channel.id)).to.equal(2);
    expect((await app.ownerDb('posts').where({ id: root.id }).first()).reply_count).to.equal(1);
    expect((await app.ownerDb('posts').where({ id: foreign.id }).first()).reply_count).to.equal(0);
  });

  it('lets a member post again once the membership is back', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user, bob.user] });
    const b = client4(app, bob.token);
    await b.createPost({ channel_id: channel.id, message: 'first' } as never);
    const row = await member(channel.id, bob.user.id);
    await app.ownerDb('channel_members').where({ channel_id: channel.id, user_id: bob.user.id }).delete();
    await app.ownerDb('channel_members').insert(row);
    const again = await b.createPost({ channel_id: channel.id, message: 'second' } as never);
    expect(again.channel_id).to.equal(channel.id);
    expect(await postCount(channel.id)).to.equal(2);
  });
});
