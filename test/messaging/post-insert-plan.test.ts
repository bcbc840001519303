import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { insertPost } from '../../server/posts/insert.ts';
import type { PostRow } from '../../server/posts/model.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser } from '../support/factories.ts';

// Posting is the hottest write. Its statement is prepared once per connection, and that only pays if
// PostgreSQL also plans it once: a statement whose plan depends on its parameters is planned again
// on every execution (it used to be: 0.7 ms of planning for 0.4 ms of work per post).
describe('the post insert statement', () => {
  let app: TestApp;
  before(async () => {
    app = await bootApp();
  });
  after(async () => app.close());

  it('is planned once per connection and shape, then executed from its cached generic plan', async () => {
    const [author, named] = await Promise.all([makeUser(app), makeUser(app)]);
    const team = await makeTeam(app.ownerDb, { members: [author.user, named.user] });
    const channel = await makeChannel(app.ownerDb, team.id, { members: [author.user, named.user] });
    // A site with some history (100 channels of 50 members, 20,000 posts, statistics gathered): on an
    // empty database every plan looks cheap and PostgreSQL keeps the generic one anyway.
    await app.ownerDb.raw(`INSERT INTO users (id, create_at, update_at, username, email, password_hash, roles)
      SELECT substr(md5('plan-user' || i), 1, 26), 0, 0, 'planuser' || i, 'planuser' || i || '@example.com', 'x', 'system_user' FROM generate_series(1, 100) i`);
    await app.ownerDb.raw(`INSERT INTO channels (id, create_at, update_at, team_id, type, display_name, name)
      SELECT substr(md5('plan-channel' || i), 1, 26), 0, 0, ?, 'O', 'Plan ' || i, 'plan-' || i FROM generate_series(1, 100) i`, [team.id]);
    await app.ownerDb.raw(`INSERT INTO channel_members (channel_id, user_id, last_update_at)
      SELECT substr(md5('plan-channel' || c), 1, 26), substr(md5('plan-user' || u), 1, 26), 0 FROM generate_series(1, 100) c, generate_series(1, 50) u`);
    await app.ownerDb.raw(`INSERT INTO posts (id, create_at, update_at, user_id, channel_id, message)
      SELECT substr(md5('plan-post' || i), 1, 26), i, i, substr(md5('plan-user' || (1 + i % 50)), 1, 26), substr(md5('plan-channel' || (1 + i % 100)), 1, 26), 'history ' || i
      FROM generate_series(1, 20000) i`);
    await app.ownerDb.raw('ANALYZE users, channels, channel_members, posts, thread_memberships');
    const post = (message: string, rootId = ''): PostRow => ({
      id: newId(), create_at: Date.now(), update_at: Date.now(), edit_at: 0, delete_at: 0, is_pinned: false, user_id: author.user.id,
      channel_id: channel.id, root_id: rootId, original_id: '', message, type: '', props: {}, hashtags: '', file_ids: [], pending_post_id: '',
      reply_count: 0, last_reply_at: 0,
    });
    const plans = await app.services.db.transaction(async (trx) => {
      const root = post('root');
      await insertPost(trx, root, { requireMembership: true }, { names: [], everyone: false });
      for (let i = 0; i < 12; i++) {
        const outcome = await insertPost(trx, post(`plain ${i}`), { requireMembership: true }, { names: [], everyone: false });
        expect(outcome.inserted).to.equal(true);
        const reply = await insertPost(trx, post(`@${named.user.username} reply ${i}`, root.id), { requireMembership: true }, { names: [named.user.username], everyone: false });
        expect(reply.mentions).to.deep.equal([named.user.id]);
      }
      const { rows } = await trx.raw("SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name LIKE '%insert_post%' ORDER BY name");
      return rows as { name: string; generic_plans: number; custom_plans: number }[];
    });
    expect(plans.length, 'a plain post and a reply with a mention are two shapes').to.equal(2);
    for (const plan of plans) {
      expect(plan.custom_plans, `${plan.name}: planned again per execution`).to.be.at.most(5);
      expect(plan.generic_plans, `${plan.name}: executions from the cached plan`).to.be.at.least(7);
    }
    const { reply_count: replies } = await app.ownerDb('posts').where({ channel_id: channel.id, root_id: '' }).orderBy('create_at').first('reply_count');
    expect(replies).to.equal(12);
  });
});
