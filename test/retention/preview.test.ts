import { expect } from 'chai';
import type { PgTarget } from '../../server/db/targets.ts';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { DAY, insertPost, purge } from './helpers.ts';

describe('retention preview: what a policy would delete now', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let teamA: { id: string; name: string };
  let teamB: { id: string; name: string };
  let a1: string;
  let b1: string;
  let dm: string;
  const now = Date.now();
  const at = { a1: [-40, -35, -31, -5], b1: [-60, -45, -20], dm: [-90, -2] };

  const preview = async (body: unknown) => {
    const res = await request(app, 'POST', '/api/v4/data_retention/preview', { token: officer.token, body });
    expect(res.status, res.text).to.equal(200);
    return res.json;
  };

  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    teamA = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    teamB = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    a1 = (await makeChannel(app.ownerDb, teamA.id, { members: [alice.user] })).id;
    b1 = (await makeChannel(app.ownerDb, teamB.id, { members: [bob.user] })).id;
    await app.ownerDb('channel_member_history').update({ join_time: now - 400 * DAY });
    dm = newId();
    await app.ownerDb('channels').insert({ id: dm, team_id: '', type: 'D', name: `${alice.user.id}__${bob.user.id}`, create_at: now, update_at: now });
    for (const d of at.a1) await insertPost(app.ownerDb, { user: alice.user.id, channel: a1, at: now + d * DAY });
    for (const d of at.b1) await insertPost(app.ownerDb, { user: bob.user.id, channel: b1, at: now + d * DAY, pinned: d === -45 });
    for (const d of at.dm) await insertPost(app.ownerDb, { user: bob.user.id, channel: dm, at: now + d * DAY });
    // Alice's hold spares her channel's oldest post only (its range ends 38 days ago).
    const hold = await request(app, 'POST', '/api/v4/legal_holds', { token: officer.token, body: { display_name: 'Alice', user_ids: [alice.user.id], ends_at: now - 38 * DAY } });
    expect(hold.status, hold.text).to.equal(201);
  });
  after(async () => app.close());

  it('answers nothing to delete while no policy is on, and refuses other roles', async () => {
    const none = await preview({});
    expect(none.passes).to.deep.equal([]);
    expect(none.totals.posts).to.equal(0);
    expect((await request(app, 'POST', '/api/v4/data_retention/preview', { token: alice.token, body: {} })).status).to.equal(403);
    expect((await request(app, 'POST', '/api/v4/data_retention/preview', { token: officer.token, body: { policy: { post_duration: 0 } } })).status).to.equal(400);
  });

  it('counts a proposed global policy per team and channel, with oldest, newest, held and pinned', async () => {
    const p = await preview({ global: { message_deletion_enabled: true, message_retention_days: 30, keep_pinned: true } });
    expect(p.passes.map((x: { key: string }) => x.key)).to.deep.equal(['global']);
    const byChannel = Object.fromEntries(p.channels.map((c: { channel_id: string }) => [c.channel_id, c]));
    expect(byChannel[a1]).to.include({ posts: 2, held_excluded: 1, pinned_excluded: 0, oldest: now - 35 * DAY, newest: now - 31 * DAY, team_id: teamA.id, team_name: teamA.name });
    expect(byChannel[b1]).to.include({ posts: 1, held_excluded: 0, pinned_excluded: 1, oldest: now - 60 * DAY, newest: now - 60 * DAY, team_name: teamB.name });
    expect(byChannel[dm]).to.include({ posts: 1, team_id: '', channel_type: 'D' });
    expect(p.totals).to.include({ posts: 4, held_excluded: 1, pinned_excluded: 1, oldest: now - 90 * DAY, newest: now - 31 * DAY });
    expect(p.teams.find((t: { team_id: string }) => t.team_id === teamA.id)).to.include({ posts: 2, held_excluded: 1 });
    expect(Number((await app.ownerDb('posts').count({ n: '*' }))[0].n), 'a preview deletes nothing').to.equal(9);
  });

  it('counts a proposed custom policy only where it would apply', async () => {
    const p = await preview({ policy: { post_duration: 30, team_ids: [teamB.id] } });
    expect(p.passes.map((x: { key: string }) => x.key)).to.deep.equal(['policy:proposed']);
    expect(p.channels.map((c: { channel_id: string }) => c.channel_id)).to.deep.equal([b1]);
    expect(p.totals.posts).to.equal(2);
  });

  it('says what a run then deletes, and `custodian retention preview` prints the same', async function () {
    this.timeout(60_000);
    const target = (app.ownerDb.client.config as { connection: PgTarget }).connection;
    const env = {
      DATABASE_URL: `postgresql://${target.user}:${encodeURIComponent(target.password)}@localhost:${target.port}/${target.database}?host=${encodeURIComponent(target.host)}`,
      CUSTODIAN_DATA_DIR: app.dataDir,
      CUSTODIAN_LOG_LEVEL: 'warn',
    };
    const cli = await runCli(['retention', 'preview', '--global-days', '30', '--keep-pinned', '--json'], env);
    expect(cli.code, cli.stderr).to.equal(0);
    const fromCli = JSON.parse(cli.stdout);
    expect(fromCli.totals).to.include({ posts: 4, held_excluded: 1, pinned_excluded: 1 });
    const table = await runCli(['retention', 'preview', '--days', '30', '--team', teamB.id], env);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/Posts: 2 \(oldest/);
    expect(table.stdout).to.include(teamB.name);
    expect((await runCli(['retention', 'preview', '--team', teamB.id], env)).code, '--team needs --days').to.equal(64);

    await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_deletion_enabled: true, message_retention_days: 30, keep_pinned: true } });
    const before = await preview({});
    const run = await runCli(['retention', 'run'], env);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.match(new RegExp(`success  posts=${before.totals.posts} .*held_skipped=${before.totals.held_excluded} pinned_skipped=${before.totals.pinned_excluded}`));
    expect(Number((await app.ownerDb('posts').count({ n: '*' }))[0].n)).to.equal(9 - before.totals.posts);
    const again = await purge(app, { now: Date.now() });
    expect(again.totals.posts, 'nothing left to delete').to.equal(0);
  });
});
