import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

describe('POST /teams/{team_id}/posts/search', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let eve: TestUser;
  let teamId: string;
  let general: string;
  let secret: string;

  const post = async (who: TestUser, channelId: string, message: string, createAt?: number) => {
    const res = await request(app, 'POST', '/api/v4/posts', { token: who.token, body: { channel_id: channelId, message } });
    expect(res.status, res.text).to.equal(201);
    if (createAt) await app.ownerDb('posts').where({ id: res.json.id }).update({ create_at: createAt });
    return res.json.id as string;
  };
  const search = async (who: TestUser, terms: string, extra: Record<string, unknown> = {}) => {
    const res = await request(app, 'POST', `/api/v4/teams/${teamId}/posts/search`, { token: who.token, body: { terms, ...extra } });
    expect(res.status, res.text).to.equal(200);
    return res.json.order.map((id: string) => res.json.posts[id].message) as string[];
  };

  before(async () => {
    app = await bootApp();
    alice = await makeUser(app, { username: 'alice' });
    bob = await makeUser(app, { username: 'bob' });
    eve = await makeUser(app, { username: 'eve' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, eve.user] });
    teamId = team.id;
    general = (await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user, bob.user, eve.user] })).id;
    secret = (await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user, bob.user] })).id;
    await post(alice, general, 'Deploying the payments service tonight');
    await post(bob, general, 'The release notes are ready for review #release');
    await post(alice, secret, 'Payments incident postmortem draft');
    await post(bob, general, 'Rollback plan for the payments deploy', Date.UTC(2026, 0, 5, 23, 30));
    const gone = await post(alice, general, 'payments deleted message');
    await request(app, 'DELETE', `/api/v4/posts/${gone}`, { token: alice.token });
  });
  after(async () => app.close());

  it('finds words with stemming, newest first', async () => {
    expect(await search(alice, 'deploy')).to.have.members(['Deploying the payments service tonight', 'Rollback plan for the payments deploy']);
  });

  it('never shows a channel the searcher cannot read, nor deleted posts', async () => {
    const forEve = await search(eve, 'payments');
    expect(forEve).to.not.include('Payments incident postmortem draft');
    expect(forEve).to.not.include('payments deleted message');
    expect(await search(alice, 'payments')).to.include('Payments incident postmortem draft');
  });

  it('supports phrases, exclusions, prefixes, hashtags and OR', async () => {
    expect(await search(alice, '"release notes"')).to.deep.equal(['The release notes are ready for review #release']);
    expect(await search(alice, 'payments -incident')).to.not.include('Payments incident postmortem draft');
    expect(await search(alice, 'postmort*')).to.deep.equal(['Payments incident postmortem draft']);
    expect(await search(alice, '#release')).to.deep.equal(['The release notes are ready for review #release']);
    expect(await search(alice, 'tonight rollback', { is_or_search: true })).to.have.length(2);
    expect(await search(alice, 'tonight rollback')).to.have.length(0);
  });

  it('filters by from: and in:', async () => {
    expect(await search(alice, 'payments from:bob')).to.deep.equal(['Rollback plan for the payments deploy']);
    const secretName = (await app.ownerDb('channels').where({ id: secret }).first()).name;
    expect(await search(alice, `payments in:${secretName}`)).to.deep.equal(['Payments incident postmortem draft']);
    expect(await search(eve, `payments in:${secretName}`), 'in: cannot widen access').to.deep.equal([]);
  });

  it('reads on:/before:/after: in the searcher\'s time zone', async () => {
    // 2026-01-05 23:30 UTC is already 2026-01-06 for someone at UTC+2.
    expect(await search(alice, 'rollback on:2026-01-05')).to.have.length(1);
    expect(await search(alice, 'rollback on:2026-01-05', { time_zone_offset: 7200 })).to.have.length(0);
    expect(await search(alice, 'rollback on:2026-01-06', { time_zone_offset: 7200 })).to.have.length(1);
    expect(await search(alice, 'rollback before:2026-01-06')).to.have.length(1);
    expect(await search(alice, 'rollback after:2026-01-05')).to.have.length(0);
  });

  it('survives hostile input: operators, quotes and SQL characters in terms', async () => {
    for (const terms of ["'; DROP TABLE posts; --", 'a & b | !c', '"unterminated', '***', ':*', '\\', '%_%']) {
      const res = await request(app, 'POST', `/api/v4/teams/${teamId}/posts/search`, { token: alice.token, body: { terms } });
      expect(res.status, terms).to.equal(200);
    }
    expect(Number((await app.ownerDb('posts').count({ n: '*' }))[0].n), 'nothing was dropped or added').to.equal(5);
  });
});
