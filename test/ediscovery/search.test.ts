import { expect } from 'chai';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from '../holds/support.ts';
import { insertFile } from '../retention/helpers.ts';

describe('eDiscovery search on a fixture', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let eve: TestUser;
  let teamAdmin: TestUser;
  let teamId: string;
  let general: { id: string; name: string };
  let secret: { id: string; name: string };
  let dm: string;
  const ids: Record<string, string> = {};

  const post = async (who: TestUser, channelId: string, message: string, createAt?: number) => {
    const res = await request(app, 'POST', '/api/v4/posts', { token: who.token, body: { channel_id: channelId, message } });
    expect(res.status, res.text).to.equal(201);
    if (createAt) await app.ownerDb('posts').where({ id: res.json.id }).update({ create_at: createAt, update_at: createAt });
    return res.json.id as string;
  };
  const search = async (terms: string, extra: Record<string, unknown> = {}, who: TestUser = officer) => {
    const res = await request(app, 'POST', '/api/v4/ediscovery/search', { token: who.token, body: { terms, ...extra } });
    expect(res.status, res.text).to.equal(200);
    return res.json;
  };
  /** The ids of the hits ("post" or "post:version"). */
  const hits = async (terms: string, extra: Record<string, unknown> = {}) => (await search(terms, extra)).results.map((r: { id: string }) => r.id) as string[];
  const userSearch = async (who: TestUser, terms: string) => {
    const res = await request(app, 'POST', `/api/v4/teams/${teamId}/posts/search`, { token: who.token, body: { terms } });
    expect(res.status, res.text).to.equal(200);
    return res.json.order.map((id: string) => res.json.posts[id].message) as string[];
  };

  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app, { username: 'alice' });
    bob = await makeUser(app, { username: 'bob' });
    carol = await makeUser(app, { username: 'carol' });
    eve = await makeUser(app, { username: 'eve' });
    teamAdmin = await makeUser(app, { username: 'tadmin' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user, carol.user, eve.user], admins: [teamAdmin.user] });
    teamId = team.id;
    general = await makeChannel(app.ownerDb, teamId, { type: 'O', members: [alice.user, bob.user, eve.user, teamAdmin.user] });
    secret = await makeChannel(app.ownerDb, teamId, { type: 'P', members: [alice.user, bob.user, teamAdmin.user] });
    dm = newId();
    await app.ownerDb('channels').insert({ id: dm, team_id: '', type: 'D', name: `${alice.user.id}__${carol.user.id}`, create_at: Date.now(), update_at: Date.now() });
    for (const u of [alice, carol]) {
      await app.ownerDb('channel_members').insert({ channel_id: dm, user_id: u.user.id, scheme_user: true });
      await app.ownerDb('channel_member_history').insert({ channel_id: dm, user_id: u.user.id, join_time: Date.UTC(2025, 0, 1) });
    }
    await app.ownerDb('channel_member_history').update({ join_time: Date.UTC(2025, 0, 1) });

    ids.invoice = await post(alice, general.id, 'Quarterly invoices for Acme <script>alert(1)</script>', Date.UTC(2026, 0, 3, 12));
    const file = await insertFile(app, { user: alice.user.id, channel: general.id, at: Date.UTC(2026, 0, 3, 12), postId: ids.invoice });
    await app.ownerDb('posts').where({ id: ids.invoice }).update({ file_ids: JSON.stringify([file.id]) });
    ids.order = await post(bob, general.id, 'The purchase order was approved', Date.UTC(2026, 0, 5, 23, 30));
    ids.settlement = await post(alice, secret.id, 'Draft settlement terms with Acme', Date.UTC(2026, 0, 7, 9));
    ids.note = await post(bob, secret.id, 'Delete this invoice note', Date.UTC(2026, 0, 8, 9));
    ids.merger = await post(carol, dm, 'Meet about the Acme merger', Date.UTC(2026, 0, 9, 9));
    ids.lunch = await post(bob, general.id, 'Lunch order for Friday', Date.UTC(2026, 0, 10, 9));
    ids.setup = await post(alice, general.id, 'Settlements ledger for staging', Date.UTC(2026, 0, 11, 9));
    const edited = await request(app, 'PUT', `/api/v4/posts/${ids.settlement}/patch`, { token: alice.token, body: { message: 'Final settlement terms' } });
    expect(edited.status).to.equal(200);
    expect((await request(app, 'DELETE', `/api/v4/posts/${ids.note}`, { token: bob.token })).status).to.equal(200);
    ids.settlementV1 = `${ids.settlement}:${(await app.ownerDb('post_versions').where({ post_id: ids.settlement, reason: 'edit' }).first()).id}`;
  });
  after(async () => app.close());

  it('matches words with stemming, "phrases", prefixes, and AND / OR / NOT with parentheses', async () => {
    expect(await hits('invoice')).to.have.members([ids.invoice, ids.note]);
    expect(await hits('"purchase order"')).to.deep.equal([ids.order]);
    expect(await hits('"order purchase"')).to.deep.equal([]);
    expect(await hits('sett*')).to.have.members([ids.settlement, ids.settlementV1, ids.setup]);
    expect(await hits('acme settlement'), 'side by side means AND').to.have.members([ids.settlementV1]);
    expect(await hits('acme AND settlement')).to.have.members([ids.settlementV1]);
    expect(await hits('lunch OR merger')).to.have.members([ids.lunch, ids.merger]);
    expect(await hits('lunch merger', { is_or_search: true })).to.have.members([ids.lunch, ids.merger]);
    expect(await hits('acme NOT merger')).to.have.members([ids.invoice, ids.settlementV1]);
    expect(await hits('acme -merger')).to.have.members([ids.invoice, ids.settlementV1]);
    expect(await hits('(lunch OR purchase) AND order')).to.have.members([ids.lunch, ids.order]);
    expect(await hits('-(lunch OR purchase) order')).to.deep.equal([]);
    const bad = await request(app, 'POST', '/api/v4/ediscovery/search', { token: officer.token, body: { terms: '(acme OR' } });
    expect(bad.status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/ediscovery/search', { token: officer.token, body: { terms: 'on:yesterday' } })).status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/ediscovery/search', { token: officer.token, body: { terms: '' } })).status, 'a search needs terms or filters').to.equal(400);
  });

  it('filters by from:, in:, has:file, custodian: and hold:', async () => {
    expect(await hits('order from:bob')).to.have.members([ids.order, ids.lunch]);
    expect(await hits('order -from:bob')).to.deep.equal([]);
    expect(await hits(`acme in:${secret.name}`)).to.deep.equal([ids.settlementV1]);
    expect(await hits(`acme -in:${secret.name}`)).to.have.members([ids.invoice, ids.merger]);
    expect(await hits('has:file')).to.deep.equal([ids.invoice]);
    // Carol's reach: what she sent, and what was said in channels she was in at the time (the DM).
    expect(await hits('custodian:carol')).to.deep.equal([ids.merger]);
    expect(await hits('acme', { custodian_ids: [carol.user.id] })).to.deep.equal([ids.merger]);
    expect((await request(app, 'POST', '/api/v4/ediscovery/search', { token: officer.token, body: { terms: 'custodian:nobody' } })).status).to.equal(400);
    const hold = await request(app, 'POST', '/api/v4/legal_holds', { token: officer.token, body: { name: 'bob-invoices', display_name: 'Bob invoices', user_ids: [bob.user.id], query: 'invoice' } });
    expect(hold.status, hold.text).to.equal(201);
    // Bob's hold: his posts, and posts in channels he was in, that mention invoices (now or before).
    expect(await hits(`hold:${hold.json.id}`)).to.have.members([ids.note, ids.invoice]);
    expect(await hits('hold:bob-invoices note')).to.deep.equal([ids.note]);
    expect(await hits('from:bob', { hold_id: hold.json.id })).to.deep.equal([ids.note]);
  });

  it('reads on: / before: / after: in the searcher\'s time zone', async () => {
    // 2026-01-05 23:30 UTC is already 2026-01-06 at UTC+2, and still 2026-01-05 at UTC-5.
    expect(await hits('order on:2026-01-05')).to.deep.equal([ids.order]);
    expect(await hits('order on:2026-01-05', { time_zone_offset: 7200 })).to.deep.equal([]);
    expect(await hits('order on:2026-01-06', { time_zone_offset: 7200 })).to.deep.equal([ids.order]);
    expect(await hits('order on:2026-01-05', { time_zone_offset: -5 * 3600 })).to.deep.equal([ids.order]);
    expect(await hits('order before:2026-01-06')).to.deep.equal([ids.order]);
    expect(await hits('order before:2026-01-06', { time_zone_offset: 7200 })).to.deep.equal([]);
    expect(await hits('order after:2026-01-05')).to.deep.equal([ids.lunch]);
    expect(await hits('order after:2026-01-05', { time_zone_offset: 7200 })).to.have.members([ids.order, ids.lunch]);
    expect(await hits('order after:2026-01-04 before:2026-01-06')).to.deep.equal([ids.order]);
  });

  it('shows edited and deleted versions, with their state, to the compliance role', async () => {
    const draft = await search('draft');
    expect(draft.results).to.have.length(1);
    expect(draft.results[0]).to.include({ id: ids.settlementV1, item_type: 'prior_version', state: 'prior_version', message: 'Draft settlement terms with Acme', post_id: ids.settlement });
    expect(draft.results[0].replaced_at).to.be.greaterThan(0);
    const final = await search('final');
    expect(final.results[0]).to.include({ id: ids.settlement, state: 'edited', message: 'Final settlement terms', channel_name: secret.name, username: 'alice' });
    const deleted = await search('note');
    expect(deleted.results[0]).to.include({ id: ids.note, state: 'deleted', message: 'Delete this invoice note' });
    expect(deleted.results[0].delete_at).to.be.greaterThan(0);
    expect(await hits('draft', { include_versions: false })).to.deep.equal([]);
    expect(await hits('note', { include_deleted: false })).to.deep.equal([]);
    // Pinning adds a version with the same text: it is not a separate hit.
    await request(app, 'POST', `/api/v4/posts/${ids.lunch}/pin`, { token: bob.token });
    expect(await hits('lunch')).to.deep.equal([ids.lunch]);
  });

  it('never shows prior versions or deleted posts to anyone else, nor channels they cannot read', async () => {
    expect(await userSearch(alice, 'draft'), 'user search has no prior versions').to.deep.equal([]);
    expect(await userSearch(bob, 'note'), 'nor deleted posts').to.deep.equal([]);
    expect(await userSearch(alice, 'settlement')).to.have.members(['Final settlement terms', 'Settlements ledger for staging']);
    expect(await userSearch(eve, 'final'), 'eve is not in the secret channel').to.deep.equal([]);
    expect(await userSearch(eve, `acme in:${secret.name}`)).to.deep.equal([]);
    expect(await userSearch(eve, 'acme')).to.deep.equal(['Quarterly invoices for Acme <script>alert(1)</script>']);
    expect((await request(app, 'GET', `/api/v4/posts/${ids.settlement}`, { token: eve.token })).status).to.equal(403);
    expect((await request(app, 'GET', `/api/v4/posts/${ids.note}`, { token: bob.token })).status, 'a deleted post is gone for its author').to.equal(404);
    const history = await request(app, 'GET', `/api/v4/posts/${ids.settlement}/edit_history`, { token: alice.token });
    expect(history.status, 'the author sees her own edit history, as in Mattermost').to.equal(200);
    expect((await request(app, 'GET', `/api/v4/posts/${ids.settlement}/edit_history`, { token: teamAdmin.token })).status, 'a team admin does not').to.equal(403);
    expect((await request(app, 'GET', `/api/v4/posts/${ids.settlement}/edit_history`, { token: bob.token })).status, 'nor another member').to.equal(403);
    for (const who of [alice, teamAdmin, eve]) {
      expect((await request(app, 'POST', '/api/v4/ediscovery/search', { token: who.token, body: { terms: 'draft' } })).status).to.equal(403);
    }
    const denied = (await auditRecords(app.ownerDb, 'ediscovery_search')).filter((r) => r.status === 'fail');
    expect(denied.map((r) => r.actor.user_id)).to.include.members([alice.user.id, teamAdmin.user.id, eve.user.id]);
  });

  it('highlights matches (HTML-escaped) and counts every hit across pages', async () => {
    const res = await search('acme invoices');
    expect(res.results[0].highlight).to.equal('Quarterly <mark>invoices</mark> for <mark>Acme</mark> &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.terms).to.deep.equal(['acme', 'invoices']);
    const first = await search('acme OR order', { per_page: 2 });
    expect(first.total_count).to.equal(5);
    expect(first.results).to.have.length(2);
    expect(first.has_next).to.equal(true);
    const last = await search('acme OR order', { per_page: 2, page: 2 });
    expect(last.total_count).to.equal(5);
    expect(last.results).to.have.length(1);
    expect(last.has_next).to.equal(false);
    const beyond = await search('acme OR order', { per_page: 2, page: 9 });
    expect(beyond).to.include({ total_count: 5, has_next: false });
  });

  it('audits every search with its query, scope and result count', async () => {
    await search('merger', { custodian_ids: [carol.user.id] });
    const record = (await auditRecords(app.ownerDb, 'ediscovery_search')).filter((r) => r.status === 'success').at(-1);
    expect(record.actor.user_id).to.equal(officer.user.id);
    expect(record.event.parameters).to.include({ terms: 'merger' });
    expect(record.event.parameters.custodian_ids).to.deep.equal([carol.user.id]);
    expect(record.event.resulting_state).to.deep.equal({ total_count: 1, returned: 1 });
  });

  it('keeps saved searches under cases, and runs them', async () => {
    const created = await request(app, 'POST', '/api/v4/ediscovery/cases', { token: officer.token, body: { name: 'Acme matter', description: 'Contract dispute' } });
    expect(created.status, created.text).to.equal(201);
    const caseId = created.json.id;
    expect((await request(app, 'POST', '/api/v4/ediscovery/cases', { token: alice.token, body: { name: 'x' } })).status).to.equal(403);
    const saved = await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/searches`, { token: officer.token, body: { name: 'Acme anywhere', terms: 'acme', time_zone_offset: 3600 } });
    expect(saved.status, saved.text).to.equal(201);
    expect(saved.json).to.include({ name: 'Acme anywhere', terms: 'acme', time_zone_offset: 3600, include_versions: true });
    expect((await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/searches`, { token: officer.token, body: { name: 'Broken', terms: '(acme' } })).status).to.equal(400);
    const run = await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/searches/${saved.json.id}/run`, { token: officer.token, body: {} });
    expect(run.status, run.text).to.equal(200);
    expect(run.json.total_count).to.equal(3);
    const detail = await request(app, 'GET', `/api/v4/ediscovery/cases/${caseId}`, { token: officer.token });
    expect(detail.json.searches).to.have.length(1);
    expect(detail.json.searches[0].last_total).to.equal(3);
    const runs = (await auditRecords(app.ownerDb, 'ediscovery_search')).filter((r) => r.event.parameters.saved_search_id === saved.json.id);
    expect(runs).to.have.length(1);
    expect(runs[0].event.parameters.terms).to.equal('acme');
    expect((await request(app, 'PATCH', `/api/v4/ediscovery/cases/${caseId}`, { token: officer.token, body: { description: 'Settled' } })).json.description).to.equal('Settled');
    expect((await request(app, 'DELETE', `/api/v4/ediscovery/cases/${caseId}/searches/${saved.json.id}`, { token: officer.token })).status).to.equal(200);
    expect((await request(app, 'GET', `/api/v4/ediscovery/cases/${caseId}/searches`, { token: officer.token })).json).to.deep.equal([]);
    expect((await request(app, 'DELETE', `/api/v4/ediscovery/cases/${caseId}`, { token: officer.token })).status).to.equal(200);
    expect((await request(app, 'GET', `/api/v4/ediscovery/cases/${caseId}`, { token: officer.token })).status).to.equal(404);
  });
});
