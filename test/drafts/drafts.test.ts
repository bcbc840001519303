import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, type RawSocket } from '../realtime/ws-clients.ts';

describe('drafts through the official Client4', () => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let team: { id: string };
  let channel: { id: string };
  before(async () => {
    app = await bootApp();
    [alice, bob] = await Promise.all([makeUser(app), makeUser(app)]);
    team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] });
  });
  after(async () => app.close());

  const draft = (fields: Record<string, unknown>) => ({ create_at: 0, update_at: 0, delete_at: 0, user_id: '', root_id: '', props: {}, ...fields }) as never;

  it('saves, updates, lists and deletes drafts for a channel and a thread, telling only the user\'s own sessions', async () => {
    const a = client4(app, alice.token);
    const root = await client4(app, bob.token).createPost({ channel_id: channel.id, message: 'Question' });
    let mine: RawSocket | undefined;
    let theirs: RawSocket | undefined;
    try {
      [mine, theirs] = await Promise.all([connect(app, alice.token), connect(app, bob.token)]);
      const saved = await a.upsertDraft(draft({ channel_id: channel.id, message: 'Half a thought', file_ids: [] }), '');
      expect(saved).to.include({ user_id: alice.user.id, channel_id: channel.id, root_id: '', message: 'Half a thought', delete_at: 0 });
      expect(saved.create_at).to.be.greaterThan(0);
      const created = await mine.event('draft_created');
      expect(JSON.parse(created.data.draft)).to.include({ message: 'Half a thought', channel_id: channel.id });

      const updated = await a.upsertDraft(draft({ channel_id: channel.id, message: 'A whole thought', props: { mentions: 1 } }), '');
      expect(updated).to.include({ message: 'A whole thought', create_at: saved.create_at });
      expect(updated.update_at).to.be.greaterThanOrEqual(saved.update_at);
      await mine.event('draft_updated');
      await a.upsertDraft(draft({ channel_id: channel.id, root_id: root.id, message: 'My answer' }), '');

      const listed = await a.getUserDrafts(team.id);
      expect(listed.map((d) => [d.root_id, d.message])).to.deep.equal([[root.id, 'My answer'], ['', 'A whole thought']]);
      expect(await client4(app, bob.token).getUserDrafts(team.id), "another user's drafts stay private").to.have.length(0);

      await a.deleteDraft(channel.id, root.id, '');
      const deleted = await mine.event('draft_deleted');
      expect(JSON.parse(deleted.data.draft)).to.include({ root_id: root.id });
      expect((await a.getUserDrafts(team.id)).map((d) => d.root_id)).to.deep.equal(['']);
      await a.deleteDraft(channel.id, root.id, ''); // deleting again is fine

      // An emptied draft is deleted, as in Mattermost.
      const emptied = await request(app, 'POST', '/api/v4/drafts', { token: alice.token, body: { channel_id: channel.id, message: '' } });
      expect(emptied.status).to.equal(201);
      expect(await a.getUserDrafts(team.id)).to.have.length(0);
      expect(theirs.events.map((e) => e.event)).to.not.include.members(['draft_created', 'draft_updated', 'draft_deleted']);
    } finally {
      mine?.close();
      theirs?.close();
    }
  });

  it('hides drafts of channels the user left and of deleted threads', async () => {
    const a = client4(app, alice.token);
    const other = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] });
    const root = await a.createPost({ channel_id: channel.id, message: 'to be deleted' });
    await a.upsertDraft(draft({ channel_id: other.id, message: 'private words' }), '');
    await a.upsertDraft(draft({ channel_id: channel.id, root_id: root.id, message: 'reply to come' }), '');
    expect(await a.getUserDrafts(team.id)).to.have.length(2);
    await a.deletePost(root.id);
    await client4(app, bob.token).removeFromChannel(alice.user.id, other.id);
    expect(await a.getUserDrafts(team.id)).to.have.length(0);
  });

  it('refuses drafts in channels one is not a member of, for others, and bad input, with Mattermost error JSON', async () => {
    const outsider = await makeUser(app);
    await app.ownerDb('team_members').insert({ team_id: team.id, user_id: outsider.user.id, create_at: Date.now() });
    const o = client4(app, outsider.token);
    const privateChannel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user] });
    expect(await statusOf(() => o.upsertDraft(draft({ channel_id: privateChannel.id, message: 'x' }), '')), 'a private channel').to.equal(403);
    expect(await statusOf(() => o.upsertDraft(draft({ channel_id: channel.id, message: 'x' }), '')), 'a public channel not joined').to.equal(403);
    const byOther = await request(app, 'GET', `/api/v4/users/${alice.user.id}/teams/${team.id}/drafts`, { token: outsider.token });
    expect(byOther.status).to.equal(403);
    const deleteOthers = await request(app, 'DELETE', `/api/v4/users/${alice.user.id}/channels/${channel.id}/drafts`, { token: outsider.token });
    expect(deleteOthers.status).to.equal(403);

    expect((await request(app, 'POST', '/api/v4/drafts', { body: { channel_id: channel.id, message: 'x' } })).status).to.equal(401);
    const auth = { token: alice.token };
    const stored = (await app.ownerDb('drafts').where({ user_id: alice.user.id })).length;
    const reply = await client4(app, alice.token).createPost({ channel_id: channel.id, message: 'root' });
    const cases: [string, unknown, number][] = [
      ['oversized message', { channel_id: channel.id, message: 'x'.repeat(16_384) }, 400],
      ['a bad channel id', { channel_id: 'nope', message: 'x' }, 400],
      ['a wrong type', { channel_id: channel.id, message: 42 }, 400],
      ['an unknown channel', { channel_id: 'a'.repeat(26), message: 'x' }, 404],
      ['a root of no thread', { channel_id: channel.id, root_id: 'b'.repeat(26), message: 'x' }, 400],
      ['a root in another channel', { channel_id: (await makeChannel(app.ownerDb, team.id, { members: [alice.user] })).id, root_id: reply.id, message: 'x' }, 400],
    ];
    for (const [what, body, status] of cases) {
      const res = await request(app, 'POST', '/api/v4/drafts', { ...auth, body });
      expect(res.status, what).to.equal(status);
      expect(res.json).to.include.keys('id', 'message', 'status_code');
    }
    const malformed = await request(app, 'POST', '/api/v4/drafts', { ...auth, raw: '{"channel_id":', headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).to.equal(400);
    expect((await request(app, 'DELETE', `/api/v4/users/me/channels/${channel.id}/drafts/not-an-id`, auth)).status).to.equal(400);
    expect((await request(app, 'GET', '/api/v4/users/me/teams/not-an-id/drafts', auth)).status).to.equal(400);
    expect(await app.ownerDb('drafts').where({ user_id: alice.user.id }), 'nothing partially written').to.have.length(stored);
  });
});
