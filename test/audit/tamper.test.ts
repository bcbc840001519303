import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { expect } from 'chai';
import { recordAudit, verifyDatabase, type VerifyResult } from '../../audit/index.ts';
import { canonicalJson } from '../../audit/canonical.ts';
import { chainHash, normalizeRecord } from '../../audit/record.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { asSuperuser } from './helpers.ts';

// Tampering as a PostgreSQL superuser (triggers off, as an attacker would), each change rolled back
// after verification so every case starts from the same intact log of 60 records, checkpointed every 10.
describe('audit log tampering is detected', () => {
  let app: TestApp;
  let last: number;

  const verify = (db: Knex | Knex.Transaction): Promise<VerifyResult> =>
    verifyDatabase(db, { trustedKeys: app.services.audit.keys.publicKeys(), checkpointFiles: [app.services.audit.checkpointFile] });

  /** Applies `tamper` as superuser, verifies, rolls everything back. */
  async function tampered(tamper: (trx: Knex.Transaction) => Promise<void>): Promise<VerifyResult> {
    const trx = await app.ownerDb.transaction();
    try {
      await asSuperuser(trx, tamper);
      return await verify(trx);
    } finally {
      await trx.rollback();
    }
  }

  const hashOf = async (trx: Knex.Transaction, seq: number) => (await trx('audit_log').where({ seq }).first('hash')).hash as Buffer;

  before(async () => {
    // Checkpoints by count only: a time-based one on a slow machine would move the ranges the cases expect.
    app = await bootApp({ CUSTODIAN_AUDIT_CHECKPOINT_RECORDS: '10', CUSTODIAN_AUDIT_CHECKPOINT_MINUTES: '1440' });
    // The server's own start records (audit key, configuration) come first; the actor of the record
    // at sequence number n is `user<n-2>`.
    await app.services.audit.sync();
    const startRecords = Number((await app.ownerDb('audit_log').max({ s: 'seq' }))[0].s);
    for (let seq = startRecords + 1; seq <= 60; seq++) {
      await recordAudit(app.services.db, { event_name: 'tamper_test', status: 'success', actor: { user_id: `user${seq - 2}` }, meta: { api_path: '/test', node_id: 'test' }, event: { parameters: { seq } } });
    }
    await app.services.audit.sync();
    last = Number((await app.ownerDb('audit_log').max({ s: 'seq' }))[0].s);
  });
  after(async () => app.close());

  it('verifies an untouched log as intact, every record covered by a signed checkpoint', async () => {
    const result = await verify(app.ownerDb);
    expect(result.findings).to.deep.equal([]);
    expect(result.ok).to.equal(true);
    expect(result.records).to.equal(last);
    expect(last).to.be.at.least(60);
    expect(result.signedThrough).to.equal(last);
  });

  it('catches a changed field at its sequence number: modified', async () => {
    const result = await tampered(async (trx) => {
      await trx.raw(`UPDATE audit_log SET record = replace(record, '"user_id":"user20"', '"user_id":"someone"') WHERE seq = 22`);
    });
    expect(result.first).to.include({ seq: 22, reason: 'modified' });
  });

  it('catches a deleted row: deleted', async () => {
    const result = await tampered(async (trx) => {
      await trx('audit_log').where({ seq: 30 }).delete();
    });
    expect(result.first).to.include({ seq: 30, reason: 'deleted' });
  });

  it('catches a deleted row even when later rows were renumbered to close the gap: deleted', async () => {
    const result = await tampered(async (trx) => {
      await trx('audit_log').where({ seq: 30 }).delete();
      await trx.raw('UPDATE audit_log SET seq = seq + 1000000 WHERE seq > 30');
      await trx.raw('UPDATE audit_log SET seq = seq - 1000001 WHERE seq > 1000000');
    });
    expect(result.first).to.include({ seq: 30, reason: 'deleted' });
  });

  it('catches a forged row inserted between two records, even with a correctly chained hash: inserted', async () => {
    const result = await tampered(async (trx) => {
      await trx.raw('UPDATE audit_log SET seq = seq + 1000000 WHERE seq >= 17');
      await trx.raw('UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000');
      const record = canonicalJson({ ...normalizeRecord({ event_name: 'login', status: 'success', actor: { user_id: 'alibi' }, meta: {} }), seq: 17 });
      await trx('audit_log').insert({ seq: 17, record, hash: chainHash(await hashOf(trx, 16), record), sealed_at: Date.now() });
    });
    expect(result.first).to.include({ seq: 17, reason: 'inserted' });
  });

  it('catches two swapped rows: reordered', async () => {
    const result = await tampered(async (trx) => {
      await trx.raw('UPDATE audit_log SET seq = -1 WHERE seq = 41');
      await trx.raw('UPDATE audit_log SET seq = 41 WHERE seq = 42');
      await trx.raw('UPDATE audit_log SET seq = 42 WHERE seq = -1');
    });
    expect(result.first).to.include({ seq: 41, reason: 'reordered' });
  });

  it('catches the last 10 rows dropped: truncated', async () => {
    const result = await tampered(async (trx) => {
      await trx('audit_log').where('seq', '>', last - 10).delete();
    });
    expect(result.first).to.include({ seq: last - 9, reason: 'truncated' });
  });

  it('catches a truncation covered up in the database (head and checkpoints rewound) from the checkpoint file outside it', async () => {
    const result = await tampered(async (trx) => {
      await trx('audit_log').where('seq', '>', last - 10).delete();
      await trx('audit_checkpoints').where('seq_end', '>', last - 10).delete();
      await trx('audit_head').update({ seq: last - 10, hash: await hashOf(trx, last - 10) });
    });
    expect(result.first).to.include({ seq: last - 9, reason: 'truncated' });
    expect(result.first!.detail).to.include('checkpoints.jsonl');
  });

  it('catches a replaced checkpoint signature: bad_signature at the first record it covers', async () => {
    const result = await tampered(async (trx) => {
      const row = await trx('audit_checkpoints').where({ number: 3 }).first();
      const forger = crypto.generateKeyPairSync('ed25519').privateKey;
      await trx('audit_checkpoints').where({ number: 3 }).update({ signature: crypto.sign(null, Buffer.from(row.body), forger).toString('base64') });
    });
    const third = await app.ownerDb('audit_checkpoints').where({ number: 3 }).first('seq_start');
    expect(result.first).to.include({ seq: Number(third.seq_start), reason: 'bad_signature' });
  });

  it('catches a record rewritten with every later hash recomputed, through the signed checkpoint of its range', async () => {
    const result = await tampered(async (trx) => {
      const rows = await trx('audit_log').where('seq', '>=', 25).orderBy('seq').select('seq', 'record');
      let prev = await hashOf(trx, 24);
      for (const row of rows) {
        const record = row.seq === 25 ? row.record.replace('"user_id":"user23"', '"user_id":"nobody"') : row.record;
        prev = chainHash(prev, record);
        await trx('audit_log').where({ seq: row.seq }).update({ record, hash: prev });
      }
      await trx('audit_head').update({ hash: prev });
    });
    const covering = await app.ownerDb('audit_checkpoints').where('seq_start', '<=', 25).andWhere('seq_end', '>=', 25).first('number', 'seq_start');
    expect(result.first).to.include({ seq: Number(covering.seq_start), reason: 'modified' });
    expect(result.first!.detail).to.include(`checkpoint ${covering.number}`);
  });
});
