import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from './support.ts';

describe('/legal_holds', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;

  before(async () => {
    app = await bootApp();
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    channelId = (await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] })).id;
  });
  after(async () => app.close());

  const create = (token: string | undefined, body: unknown) => request(app, 'POST', '/api/v4/legal_holds', { token, body });

  it('refuses anonymous callers, bad input, other roles and unknown holds', async () => {
    expect((await create(undefined, { display_name: 'x', user_ids: [alice.user.id] })).status).to.equal(401);
    expect((await create(officer.token, { display_name: '', user_ids: [alice.user.id] })).status).to.equal(400);
    expect((await create(officer.token, { display_name: 'No scope' })).status, 'a hold needs a scope').to.equal(400);
    expect((await create(officer.token, { display_name: 'Ghost', user_ids: ['abcdefghijklmnopqrstuvwxyz'] })).status, 'unknown custodian').to.equal(400);
    expect((await create(officer.token, { display_name: 'Dates', user_ids: [alice.user.id], starts_at: 10, ends_at: 5 })).status).to.equal(400);
    expect((await create(officer.token, { display_name: 'Filters', user_ids: [alice.user.id], query: 'from:bob invoice' })).status, 'a hold query has text terms only').to.equal(400);
    expect((await create(alice.token, { display_name: 'Mine', user_ids: [alice.user.id] })).status).to.equal(403);
    expect((await request(app, 'GET', '/api/v4/legal_holds', { token: alice.token })).status).to.equal(403);
    expect((await request(app, 'GET', '/api/v4/legal_holds/abcdefghijklmnopqrstuvwxyz', { token: officer.token })).status).to.equal(404);
    const denied = await auditRecords(app.ownerDb, 'create_legal_hold');
    expect(denied.some((r) => r.status === 'fail' && r.actor.user_id === alice.user.id), 'the denial is audited').to.equal(true);
  });

  it('creates a hold, versions every change, and releases it without deleting anything', async () => {
    const created = await create(officer.token, {
      display_name: 'Acme v. Custodian', user_ids: [alice.user.id], group_ids: ['ldap-group-1'], starts_at: 1000, ends_at: 0, query: 'invoice OR "purchase order"',
    });
    expect(created.status, created.text).to.equal(201);
    const hold = created.json;
    expect(hold).to.include({ version: 1, status: 'active', display_name: 'Acme v. Custodian', starts_at: 1000, ends_at: 0, query: 'invoice OR "purchase order"' });
    expect(hold.user_ids).to.deep.equal([alice.user.id]);
    expect(hold.group_ids).to.deep.equal(['ldap-group-1']);
    expect(hold.name).to.match(/^acme-v-custodian-/);

    const patched = await request(app, 'PATCH', `/api/v4/legal_holds/${hold.id}`, { token: officer.token, body: { channel_ids: [channelId], user_ids: [alice.user.id, bob.user.id], comment: 'add bob' } });
    expect(patched.status, patched.text).to.equal(200);
    expect(patched.json.version).to.equal(2);
    expect(patched.json.channel_ids).to.deep.equal([channelId]);
    expect(patched.json.versions.map((v: { version: number }) => v.version)).to.deep.equal([1, 2]);
    expect(patched.json.versions[0].user_ids, 'version 1 is kept as it was').to.deep.equal([alice.user.id]);

    const posts = Number((await app.ownerDb('posts').count({ n: '*' }))[0].n);
    const released = await request(app, 'POST', `/api/v4/legal_holds/${hold.id}/release`, { token: officer.token, body: { comment: 'settled' } });
    expect(released.status, released.text).to.equal(200);
    expect(released.json).to.include({ version: 3, status: 'released', released: true, comment: 'settled', released_by: officer.user.id });
    expect(released.json.channel_ids, 'the released version keeps the last scope').to.deep.equal([channelId]);
    expect(Number((await app.ownerDb('posts').count({ n: '*' }))[0].n)).to.equal(posts);

    expect((await request(app, 'PATCH', `/api/v4/legal_holds/${hold.id}`, { token: officer.token, body: { comment: 'again' } })).status).to.equal(409);
    expect((await request(app, 'POST', `/api/v4/legal_holds/${hold.id}/release`, { token: officer.token, body: {} })).status).to.equal(409);

    const got = await request(app, 'GET', `/api/v4/legal_holds/${hold.id}`, { token: officer.token });
    expect(got.json.versions).to.have.length(3);
    const active = await request(app, 'GET', '/api/v4/legal_holds', { token: officer.token });
    expect(active.json.map((h: { id: string }) => h.id)).to.not.include(hold.id);
    const all = await request(app, 'GET', '/api/v4/legal_holds?include_released=true', { token: officer.token });
    expect(all.json.map((h: { id: string }) => h.id)).to.include(hold.id);

    for (const event of ['create_legal_hold', 'update_legal_hold', 'release_legal_hold']) {
      const records = (await auditRecords(app.ownerDb, event)).filter((r) => r.status === 'success');
      expect(records, event).to.have.length.greaterThan(0);
      expect(records.at(-1).actor.user_id).to.equal(officer.user.id);
    }
  });

  it('keeps version history immutable even for the database owner', async () => {
    const hold = (await create(officer.token, { display_name: 'Immutable', user_ids: [bob.user.id] })).json;
    let failed = false;
    try {
      await app.ownerDb('legal_hold_versions').where({ hold_id: hold.id }).update({ display_name: 'rewritten' });
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    failed = false;
    try {
      await app.ownerDb('legal_hold_scope').where({ hold_id: hold.id }).delete();
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
  });

  it('refuses a second hold with the same name', async () => {
    expect((await create(officer.token, { name: 'matter-42', display_name: 'Matter 42', user_ids: [bob.user.id] })).status).to.equal(201);
    expect((await create(officer.token, { name: 'matter-42', display_name: 'Matter 42 again', user_ids: [bob.user.id] })).status).to.equal(409);
  });
});
