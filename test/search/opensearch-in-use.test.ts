import { expect } from 'chai';
import { searchIndexOf } from '../../server/search/active-index.ts';
import type { SearchIndex } from '../../server/search/search-index.ts';
import type { PgTarget } from '../../server/db/targets.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { startFakeOpenSearch, type FakeOpenSearch } from './fake-opensearch.ts';

/**
 * A server configured with OpenSearch (a local stand-in of its REST API: no cluster runs here)
 * backfills the index, indexes post changes after they commit, answers user and eDiscovery searches
 * from it, falls back to PostgreSQL while the cluster fails and catches up when it is back.
 */
describe('OpenSearch as the search backend of a running server', function () {
  this.timeout(60_000);
  const INDEX = 'custodian-posts-test';
  let fake: FakeOpenSearch;
  let app: TestApp;
  let index: SearchIndex;
  let admin: TestUser;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let teamId: string;
  let general: string;

  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const doc = (id: string) => fake.indexes.get(INDEX)?.get(id) as { message: string; delete_at: number } | undefined;
  const searchesSent = () => fake.requests.filter((r) => r === `POST /${INDEX}/_search`).length;
  const post = async (who: TestUser, message: string) => {
    const res = await request(app, 'POST', '/api/v4/posts', { token: who.token, body: { channel_id: general, message } });
    expect(res.status, res.text).to.equal(201);
    return res.json.id as string;
  };
  const userSearch = async (who: TestUser, terms: string) => {
    const res = await request(app, 'POST', `/api/v4/teams/${teamId}/posts/search`, { token: who.token, body: { terms } });
    expect(res.status, res.text).to.equal(200);
    return res.json.order as string[];
  };
  const ediscovery = async (terms: string) => {
    const res = await request(app, 'POST', '/api/v4/ediscovery/search', { token: officer.token, body: { terms } });
    expect(res.status, res.text).to.equal(200);
    return res.json as { total_count: number; results: { id: string; state: string; highlight: string }[] };
  };

  before(async () => {
    fake = await startFakeOpenSearch();
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off', CUSTODIAN_OPENSEARCH_URL: fake.url, CUSTODIAN_OPENSEARCH_INDEX: INDEX });
    index = searchIndexOf(app.services)!;
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app, { username: 'alice' });
    bob = await makeUser(app, { username: 'bob' });
    teamId = (await makeTeam(app.ownerDb, { members: [alice.user, bob.user] })).id;
    general = (await makeChannel(app.ownerDb, teamId, { members: [alice.user, bob.user] })).id;
  });
  after(async () => {
    await app?.close();
    await fake?.close();
  });

  it('backfills the index at first start through a search_index job, then searches it', async () => {
    await until('the backfill job has finished', () => index.inUse());
    expect(fake.indexes.has(INDEX)).to.equal(true);
    const job = await app.ownerDb('jobs').where({ type: 'search_index' }).orderBy('create_at').first();
    expect(job.status).to.equal('success');
  });

  it('indexes posts as they are created, edited and deleted, and answers user search from the index', async () => {
    const invoice = await post(alice, 'The quarterly invoice was approved');
    const lunch = await post(bob, 'Lunch order for the quarterly review');
    await until('both posts are indexed', () => Boolean(doc(invoice) && doc(lunch)));

    const before = searchesSent();
    expect(await userSearch(bob, 'quarterly')).to.deep.equal([lunch, invoice]);
    expect(await userSearch(bob, 'quarterly from:alice')).to.deep.equal([invoice]);
    expect(searchesSent()).to.equal(before + 2);

    const edit = await request(app, 'PUT', `/api/v4/posts/${invoice}/patch`, { token: alice.token, body: { message: 'The quarterly budget was approved' } });
    expect(edit.status, edit.text).to.equal(200);
    await until('the edit is indexed', () => doc(invoice)?.message === 'The quarterly budget was approved');
    expect(await userSearch(bob, 'invoice')).to.deep.equal([]);
    expect(await userSearch(bob, 'budget')).to.deep.equal([invoice]);

    const removed = await request(app, 'DELETE', `/api/v4/posts/${lunch}`, { token: bob.token });
    expect(removed.status, removed.text).to.equal(200);
    await until('the deletion is indexed', () => (doc(lunch)?.delete_at ?? 0) > 0);
    expect(await userSearch(bob, 'lunch')).to.deep.equal([]);
  });

  it('never shows a user posts of a channel they cannot read, though the index holds them', async () => {
    const secret = (await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user] })).id;
    const res = await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: secret, message: 'Merger codename bluebird' } });
    expect(res.status, res.text).to.equal(201);
    await until('the private post is indexed', () => Boolean(doc(res.json.id)));
    expect(await userSearch(alice, 'bluebird')).to.deep.equal([res.json.id]);
    expect(await userSearch(bob, 'bluebird')).to.deep.equal([]);
    expect(await userSearch(bob, 'bluebird in:' + (await app.ownerDb('channels').where({ id: secret }).first()).name)).to.deep.equal([]);
  });

  it('answers eDiscovery from the index, prior versions and deleted posts included, with snippets from PostgreSQL', async () => {
    const before = searchesSent();
    const found = await ediscovery('invoice OR lunch');
    expect(searchesSent()).to.equal(before + 1);
    expect(found.total_count).to.equal(2);
    expect(found.results.map((r) => r.state).sort()).to.deep.equal(['deleted', 'prior_version']);
    expect(found.results.find((r) => r.state === 'prior_version')!.highlight).to.equal('The quarterly <mark>invoice</mark> was approved');
  });

  it('falls back to PostgreSQL while the cluster fails, and catches up before it is used again', async () => {
    fake.failing = true;
    const during = await post(alice, 'Outage memo about the datacenter');
    // The live indexing of that post fails: the index is out of use, searches still find it.
    await until('the failure is noticed', () => !index.inUse());
    expect(await userSearch(bob, 'datacenter')).to.deep.equal([during]);
    expect((await ediscovery('datacenter')).total_count).to.equal(1);

    fake.failing = false;
    await index.probe();
    expect(index.inUse()).to.equal(true);
    expect(doc(during)?.message).to.equal('Outage memo about the datacenter');
    const before = searchesSent();
    expect(await userSearch(bob, 'datacenter')).to.deep.equal([during]);
    expect(searchesSent()).to.equal(before + 1);
  });

  it('drops what the retention purge deletes from the index', async () => {
    const old = await post(alice, 'Ancient minutes from the archive');
    await app.ownerDb('posts').where({ id: old }).update({ create_at: Date.UTC(2020, 0, 1), update_at: Date.UTC(2020, 0, 1) });
    index.postsChanged([old]);
    await index.flush();
    expect(doc(old)).to.not.equal(undefined);
    const policy = await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_deletion_enabled: true, message_retention_days: 365 } });
    expect(policy.status, policy.text).to.equal(200);
    const job = await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'data_retention' } });
    expect(job.status, job.text).to.equal(201);
    await until('the purge has finished', async () => (await app.ownerDb('jobs').where({ id: job.json.id }).first()).status === 'success');
    expect(doc(old)).to.equal(undefined);
    expect(await userSearch(alice, 'ancient')).to.deep.equal([]);
    await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_deletion_enabled: false } });
  });

  it('`custodian search reindex` rebuilds the index from PostgreSQL and marks it whole for running servers', async () => {
    const target = (app.ownerDb.client.config as { connection: PgTarget }).connection;
    const env = {
      DATABASE_URL: `postgresql://${target.user}:${encodeURIComponent(target.password)}@localhost:${target.port}/${target.database}?host=${encodeURIComponent(target.host)}`,
      CUSTODIAN_DATA_DIR: app.dataDir, CUSTODIAN_LOG_LEVEL: 'warn', CUSTODIAN_OPENSEARCH_URL: fake.url, CUSTODIAN_OPENSEARCH_INDEX: INDEX,
    };
    fake.indexes.get(INDEX)!.clear();
    const cli = await runCli(['search', 'reindex'], env);
    expect(cli.code, cli.stdout + cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/Indexed \d+ documents into custodian-posts-test/);
    for (const p of await app.ownerDb('posts').select('id')) expect(doc(p.id), p.id).to.not.equal(undefined);
    const state = await app.ownerDb('search_index_state').where({ index_name: INDEX }).first();
    expect(Number(state.backfilled_at)).to.be.greaterThan(0);
  });

  it('rebuilds the index on demand through the jobs API (system admins only)', async () => {
    const refused = await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'search_index', data: { mode: 'rebuild' } } });
    expect(refused.status).to.equal(403);
    const bad = await request(app, 'POST', '/api/v4/jobs', { token: admin.token, body: { type: 'search_index', data: { mode: 'shuffle' } } });
    expect(bad.status).to.equal(400);
    fake.indexes.get(INDEX)!.clear();
    const created = await request(app, 'POST', '/api/v4/jobs', { token: admin.token, body: { type: 'search_index', data: { mode: 'rebuild' } } });
    expect(created.status, created.text).to.equal(201);
    await until('the rebuild has finished', async () => (await app.ownerDb('jobs').where({ id: created.json.id }).first()).status === 'success');
    const posts = await app.ownerDb('posts').select('id');
    for (const p of posts) expect(doc(p.id), p.id).to.not.equal(undefined);
    expect(index.inUse()).to.equal(true);
  });
});
