import crypto from 'node:crypto';
import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from '../holds/support.ts';
import { DAY, exists, insertFile, insertPost, purge } from './helpers.ts';

describe('retention purge', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let teamA: string;
  let teamB: string;
  let plainChannel: string;
  let teamPolicyChannel: string;
  let channelPolicyChannel: string;
  let foreverChannel: string;
  const now = Date.now();

  const setGlobal = (body: unknown) => request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body });
  const createPolicy = async (body: unknown) => {
    const res = await request(app, 'POST', '/api/v4/data_retention/policies', { token: officer.token, body });
    expect(res.status, res.text).to.equal(201);
    return res.json.id as string;
  };

  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    teamA = (await makeTeam(app.ownerDb, { members: [alice.user, bob.user] })).id;
    teamB = (await makeTeam(app.ownerDb, { members: [alice.user, bob.user] })).id;
    plainChannel = (await makeChannel(app.ownerDb, teamA, { members: [alice.user, bob.user] })).id;
    channelPolicyChannel = (await makeChannel(app.ownerDb, teamB, { members: [alice.user, bob.user] })).id;
    teamPolicyChannel = (await makeChannel(app.ownerDb, teamB, { members: [alice.user, bob.user] })).id;
    foreverChannel = (await makeChannel(app.ownerDb, teamA, { members: [alice.user, bob.user] })).id;
  });
  after(async () => app.close());

  it('applies channel > team > global precedence, keeps pinned posts when asked, and deletes versions, reactions and files', async () => {
    await setGlobal({ message_deletion_enabled: true, message_retention_days: 30, file_deletion_enabled: false, keep_pinned: true });
    await createPolicy({ display_name: 'Team B 10 days', post_duration: 10, team_ids: [teamB], channel_ids: [] });
    await createPolicy({ display_name: 'Channel 100 days', post_duration: 100, team_ids: [], channel_ids: [channelPolicyChannel] });
    await createPolicy({ display_name: 'Forever', post_duration: -1, team_ids: [], channel_ids: [foreverChannel] });

    const db = app.ownerDb;
    const old = await insertPost(db, { user: alice.user.id, channel: plainChannel, at: now - 40 * DAY });
    const recent = await insertPost(db, { user: alice.user.id, channel: plainChannel, at: now - 20 * DAY });
    const pinned = await insertPost(db, { user: alice.user.id, channel: plainChannel, at: now - 41 * DAY, pinned: true });
    const teamOld = await insertPost(db, { user: bob.user.id, channel: teamPolicyChannel, at: now - 15 * DAY });
    const teamRecent = await insertPost(db, { user: bob.user.id, channel: teamPolicyChannel, at: now - 5 * DAY });
    const chanMid = await insertPost(db, { user: bob.user.id, channel: channelPolicyChannel, at: now - 50 * DAY });
    const chanOld = await insertPost(db, { user: bob.user.id, channel: channelPolicyChannel, at: now - 150 * DAY });
    const forever = await insertPost(db, { user: bob.user.id, channel: foreverChannel, at: now - 1000 * DAY });
    // A thread: the root stays (recent), an old reply goes and the root's reply count follows.
    const root = await insertPost(db, { user: alice.user.id, channel: plainChannel, at: now - 20 * DAY });
    const oldReply = await insertPost(db, { user: bob.user.id, channel: plainChannel, at: now - 45 * DAY, rootId: root });
    await db('posts').where({ id: root }).update({ reply_count: 1 });
    await db('post_versions').insert({ post_id: old, reason: 'edit', message: 'before', props: '{}', file_ids: '[]', is_pinned: false, version_create_at: now - 40 * DAY, replaced_at: now - 39 * DAY, replaced_by: alice.user.id });
    await db('reactions').insert({ user_id: bob.user.id, post_id: old, emoji_name: 'smile', channel_id: plainChannel, create_at: now - 39 * DAY });
    // As the posts service and reactions do, the edit and the reaction moved the post's update_at.
    await db('posts').where({ id: old }).update({ update_at: now - 39 * DAY });
    const file = await insertFile(app, { user: alice.user.id, channel: plainChannel, at: now - 40 * DAY, postId: old });
    await db('posts').where({ id: old }).update({ file_ids: JSON.stringify([file.id]) });

    // Followers of a purged root lose the thread with it; those of a kept root keep it.
    await db('thread_memberships').insert([{ user_id: bob.user.id, post_id: old }, { user_id: bob.user.id, post_id: root }, { user_id: alice.user.id, post_id: root }]);

    const state = await purge(app, { now, batchSize: 2 });

    for (const gone of [old, teamOld, chanOld, oldReply]) expect(await exists(db, 'posts', { id: gone }), gone).to.equal(false);
    for (const kept of [recent, pinned, teamRecent, chanMid, forever, root]) expect(await exists(db, 'posts', { id: kept }), kept).to.equal(true);
    expect(await exists(db, 'post_versions', { post_id: old })).to.equal(false);
    expect(await exists(db, 'reactions', { post_id: old })).to.equal(false);
    expect(await exists(db, 'file_infos', { id: file.id })).to.equal(false);
    expect(await app.services.files.stat(file.key), 'the file content left the disk').to.equal(undefined);
    expect(Number((await db('retention_file_removals').count({ n: '*' }))[0].n)).to.equal(0);
    expect((await db('posts').where({ id: root }).first()).reply_count).to.equal(0);
    expect(await exists(db, 'thread_memberships', { post_id: old }), 'memberships of a purged root').to.equal(false);
    expect(Number((await db('thread_memberships').where({ post_id: root }).count({ n: '*' }))[0].n), 'memberships of a kept root').to.equal(2);
    expect(state.totals).to.include({ posts: 4, versions: 1, reactions: 1, files: 1, pinned_skipped: 1 });
    expect(state.done).to.include('global');

    const batches = await auditRecords(db, 'data_retention_purge_batch');
    const deletedCount = batches.reduce((n, r) => n + r.event.resulting_state.deleted, 0);
    expect(deletedCount).to.equal(4);
    // Batches of 2 in (create_at, id) order: the global pass's first batch holds oldReply and the
    // pinned post (kept), so it deleted oldReply alone.
    const globalBatch = batches.find((r) => r.event.parameters.pass === 'global');
    expect(globalBatch.event.resulting_state).to.include({ deleted: 1, pinned_skipped: 1 });
    const expected = crypto.createHash('sha256').update(oldReply).digest('hex');
    expect(globalBatch.event.resulting_state.deleted_ids_sha256).to.equal(expected);
  });

  it('deletes expired files on their own under the global file policy, but not held ones', async () => {
    await setGlobal({ file_deletion_enabled: true, file_retention_days: 7, message_deletion_enabled: false });
    const keep = await insertPost(app.ownerDb, { user: alice.user.id, channel: plainChannel, at: now - 1 * DAY });
    const expired = await insertFile(app, { user: alice.user.id, channel: plainChannel, at: now - 8 * DAY, postId: keep });
    const fresh = await insertFile(app, { user: alice.user.id, channel: plainChannel, at: now - 2 * DAY, postId: keep });
    const heldFile = await insertFile(app, { user: bob.user.id, channel: foreverChannel, at: now - 9 * DAY, postId: '' });
    const hold = await request(app, 'POST', '/api/v4/legal_holds', { token: officer.token, body: { display_name: 'Bob files', user_ids: [bob.user.id] } });
    expect(hold.status, hold.text).to.equal(201);
    await purge(app, { now });
    expect(await exists(app.ownerDb, 'file_infos', { id: expired.id })).to.equal(false);
    expect(await exists(app.ownerDb, 'file_infos', { id: fresh.id })).to.equal(true);
    expect(await exists(app.ownerDb, 'file_infos', { id: heldFile.id })).to.equal(true);
    expect(await app.services.files.stat(heldFile.key)).to.not.equal(undefined);
    expect(await exists(app.ownerDb, 'posts', { id: keep })).to.equal(true);
    await request(app, 'POST', `/api/v4/legal_holds/${hold.json.id}/release`, { token: officer.token, body: {} });
  });

  it('drops the cached newest page of a channel that lost posts, so readers never see purged posts', async () => {
    await setGlobal({ message_deletion_enabled: true, message_retention_days: 30, file_deletion_enabled: false, keep_pinned: false });
    const quiet = (await makeChannel(app.ownerDb, teamA, { members: [alice.user] })).id;
    const expired = await insertPost(app.ownerDb, { user: alice.user.id, channel: quiet, at: now - 60 * DAY, message: 'expired' });
    const fresh = await insertPost(app.ownerDb, { user: alice.user.id, channel: quiet, at: now - DAY, message: 'fresh' });
    const page = async () => (await request(app, 'GET', `/api/v4/channels/${quiet}/posts`, { token: alice.token })).json.order as string[];
    expect(await page()).to.deep.equal([fresh, expired]);
    expect(await page(), 'served from the cache now').to.deep.equal([fresh, expired]);
    await purge(app, { now });
    expect(await page()).to.deep.equal([fresh]);
  });

  it('runs as the data_retention job on demand, for the compliance role', async () => {
    await setGlobal({ message_deletion_enabled: true, message_retention_days: 30, file_deletion_enabled: false });
    const victim = await insertPost(app.ownerDb, { user: alice.user.id, channel: plainChannel, at: now - 31 * DAY });
    expect((await request(app, 'POST', '/api/v4/jobs', { token: alice.token, body: { type: 'data_retention' } })).status).to.equal(403);
    const created = await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'data_retention' } });
    expect(created.status, created.text).to.equal(201);
    let job = created.json;
    for (let i = 0; i < 200 && !['success', 'error', 'warning'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await request(app, 'GET', `/api/v4/jobs/${job.id}`, { token: officer.token })).json;
    }
    expect(job.status, JSON.stringify(job)).to.equal('success');
    expect(job.data.posts).to.equal('1');
    expect(await exists(app.ownerDb, 'posts', { id: victim })).to.equal(false);
    const requested = await auditRecords(app.ownerDb, 'data_retention_run_requested');
    expect(requested.at(-1).actor.user_id).to.equal(officer.user.id);
  });
});
