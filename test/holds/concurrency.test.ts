import { expect } from 'chai';
import type { Actor } from '../../server/auth/actor.ts';
import { createHold } from '../../compliance/holds/service.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from './support.ts';
import { DAY, insertPost, purge } from '../retention/helpers.ts';

/** Resolves to 'pending' if `promise` has not settled within `ms`. */
async function stillPending(promise: Promise<unknown>, ms = 400): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([promise.then(() => undefined, () => undefined), new Promise((r) => setTimeout(() => r(marker), ms))]);
  return winner === marker;
}

describe('legal holds vs a purge in flight', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let shared: string;
  let bobOnly: string;
  const now = Date.now();

  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app);
    bob = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    shared = (await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] })).id;
    bobOnly = (await makeChannel(app.ownerDb, team.id, { members: [bob.user] })).id;
    // Alice joined the shared channel long ago: her hold covers bob's posts there too.
    await app.ownerDb('channel_member_history').where({ channel_id: shared }).update({ join_time: now - 400 * DAY });
    await app.ownerDb('channel_member_history').where({ channel_id: bobOnly }).update({ join_time: now - 400 * DAY });
    const res = await request(app, 'PUT', '/api/v4/data_retention/policy', { token: officer.token, body: { message_deletion_enabled: true, message_retention_days: 30 } });
    expect(res.status, res.text).to.equal(200);
  });
  after(async () => app.close());

  const officerActor = (): Actor => ({ userId: officer.user.id, sessionId: '', roles: new Set(['system_user', 'compliance_officer']), isBot: false, via: 'bearer', ipAddress: '', userAgent: '' });

  it('a hold requested while a batch holds its victims waits for that batch, and every later batch spares what it covers', async () => {
    const covered: string[] = [];
    for (let i = 0; i < 12; i++) covered.push(await insertPost(app.ownerDb, { user: i % 2 ? alice.user.id : bob.user.id, channel: shared, at: now - (100 - i) * DAY }));
    const uncovered: string[] = [];
    for (let i = 0; i < 4; i++) uncovered.push(await insertPost(app.ownerDb, { user: bob.user.id, channel: bobOnly, at: now - (90 - i) * DAY }));

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const firstBatchLocked = new Promise<void>((r) => (locked = r));
    let batches = 0;
    const running = purge(app, {
      now, batchSize: 4,
      // The first batch holds the hold/purge lock here, then chooses and deletes the four oldest posts.
      afterLock: async () => {
        if (++batches === 1) {
          locked();
          await gate;
        }
      },
    });

    await firstBatchLocked;
    const holdRequest = request(app, 'POST', '/api/v4/legal_holds', { token: officer.token, body: { display_name: 'Alice', user_ids: [alice.user.id] } });
    try {
      expect(await stillPending(holdRequest), 'the hold waits for the batch in flight').to.equal(true);
    } finally {
      release();
    }
    const hold = await holdRequest;
    expect(hold.status, hold.text).to.equal(201);
    const state = await running;

    // The batch in flight ran without the hold (which could not commit before it); the hold took
    // effect when it committed, after that batch. Everything it covers from then on is still here.
    const survivors = new Set((await app.ownerDb('posts').whereIn('id', [...covered, ...uncovered]).select('id')).map((r) => r.id));
    expect(covered.slice(0, 4).filter((id) => survivors.has(id))).to.deep.equal([]);
    expect(covered.slice(4).filter((id) => !survivors.has(id)), 'covered posts after the first batch').to.deep.equal([]);
    expect(uncovered.filter((id) => survivors.has(id)), 'posts no hold covers').to.deep.equal([]);
    expect(state.totals.held_skipped).to.equal(8);

    // The audit trail shows the order: the batch, then the hold.
    const batch = (await auditRecords(app.ownerDb, 'data_retention_purge_batch'))[0];
    const created = (await auditRecords(app.ownerDb, 'create_legal_hold')).find((r) => r.status === 'success');
    expect(batch.timestamp).to.be.at.most(created.timestamp);
    expect(hold.json.hold_create_at).to.be.at.least(batch.timestamp);
    await request(app, 'POST', `/api/v4/legal_holds/${hold.json.id}/release`, { token: officer.token, body: {} });
  });

  it('a batch that starts while a hold is being created waits for it, then spares everything the hold covers', async () => {
    const covered: string[] = [];
    for (let i = 0; i < 6; i++) covered.push(await insertPost(app.ownerDb, { user: bob.user.id, channel: shared, at: now - (80 - i) * DAY }));
    const uncovered = await insertPost(app.ownerDb, { user: bob.user.id, channel: bobOnly, at: now - 70 * DAY });

    const trx = await app.services.db.transaction();
    let committed = false;
    try {
      // The hold's transaction holds the hold/purge lock until it commits.
      await createHold(trx, officerActor(), { display_name: 'Shared channel', description: '', user_ids: [], group_ids: [], channel_ids: [shared], starts_at: 0, ends_at: 0, query: '', comment: '' });
      const running = purge(app, { now, batchSize: 3 });
      expect(await stillPending(running), 'the batch waits for the hold').to.equal(true);
      expect(Number((await app.ownerDb('posts').whereIn('id', covered).count({ n: '*' }))[0].n), 'nothing deleted while waiting').to.equal(6);
      await trx.commit();
      committed = true;
      await running;
    } finally {
      if (!committed) await trx.rollback();
    }
    expect(Number((await app.ownerDb('posts').whereIn('id', covered).count({ n: '*' }))[0].n)).to.equal(6);
    expect(await app.ownerDb('posts').where({ id: uncovered }).first()).to.equal(undefined);
  });
});
