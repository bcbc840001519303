import { expect } from 'chai';
import type { TestApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeChannel, type TestUser } from '../support/factories.ts';
import { bootWithTwoTeammates } from '../support/teammates.ts';

// Joins, leaves, adds and removals leave Mattermost's system posts in the channel, which clients
// render from the type and props (and combine into "alice and bob joined the channel").
describe('system posts for channel membership', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let teamId: string;

  before(async () => ({ app, alice, bob, teamId } = await bootWithTwoTeammates({ alice: 'alice-sys', bob: 'bob-sys' })));
  after(async () => app.close());

  const systemPosts = async (token: string, channelId: string) => {
    const list = await client4(app, token).getPosts(channelId);
    return [...list.order].reverse().map((id) => list.posts[id]).map((p) => ({ type: p.type, message: p.message, user_id: p.user_id, props: p.props }));
  };

  it('announces a self-join and a leave of a public channel', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user] });
    const b = client4(app, bob.token);
    await b.addToChannel(bob.user.id, channel.id);
    await b.removeFromChannel(bob.user.id, channel.id);
    expect(await systemPosts(alice.token, channel.id)).to.deep.equal([
      { type: 'system_join_channel', message: 'bob-sys joined the channel.', user_id: bob.user.id, props: { username: 'bob-sys' } },
      { type: 'system_leave_channel', message: 'bob-sys left the channel.', user_id: bob.user.id, props: { username: 'bob-sys' } },
    ]);
    const counters = await app.ownerDb('channels').where({ id: channel.id }).first();
    expect(Number(counters.total_msg_count)).to.equal(2);
  });

  it('announces a member added and removed by someone else, with both users in the props', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user] });
    const a = client4(app, alice.token);
    await a.addToChannel(bob.user.id, channel.id);
    await a.removeFromChannel(bob.user.id, channel.id);
    expect(await systemPosts(alice.token, channel.id)).to.deep.equal([
      {
        type: 'system_add_to_channel', message: 'bob-sys added to the channel by alice-sys.', user_id: alice.user.id,
        props: { userId: alice.user.id, username: 'alice-sys', addedUserId: bob.user.id, addedUsername: 'bob-sys' },
      },
      { type: 'system_remove_from_channel', message: 'bob-sys was removed from the channel.', user_id: alice.user.id, props: { removedUserId: bob.user.id, removedUsername: 'bob-sys' } },
    ]);
  });

  it('says nothing when the user was already a member', async () => {
    const channel = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user, bob.user] });
    await client4(app, alice.token).addToChannel(bob.user.id, channel.id);
    expect(await systemPosts(alice.token, channel.id)).to.deep.equal([]);
  });
});
