import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { exportBundle, readPublicKeys, recordAudit, rotateAuditKey, verifyBundle, verifyDatabase, type PublicAuditKey } from '../../audit/index.ts';
import { AuditKeyDir } from '../../audit/keys.ts';
import type { PgTarget } from '../../server/db/targets.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { asSuperuser, lastRecord } from './helpers.ts';

describe('audit bundles: export and offline verification', () => {
  let app: TestApp;
  let dir: string;
  let key: PublicAuditKey;
  const record = (i: number) => recordAudit(app.services.db, { event_name: 'bundle_test', status: 'success', actor: { user_id: `u${i}` }, meta: { api_path: '/b', node_id: 'n' }, event: { parameters: { i } } });

  /** Writes `lines` (edited) next to the original and verifies that copy with the pinned key. */
  async function edited(file: string, edit: (lines: string[]) => string[]) {
    const copy = `${file}.edited`;
    fs.writeFileSync(copy, edit(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n') + '\n');
    return verifyBundle(copy, { trustedKeys: [key] });
  }
  const recordLine = (lines: string[], seq: number) => lines.findIndex((l) => l.includes('"type":"record"') && JSON.parse(l).record.seq === seq);

  before(async () => {
    app = await bootApp({ CUSTODIAN_AUDIT_CHECKPOINT_RECORDS: '8', CUSTODIAN_AUDIT_CHECKPOINT_MINUTES: '1440' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bundle-'));
    for (let i = 0; i < 40; i++) await record(i);
    await app.services.audit.sync();
    [key] = app.services.audit.keys.publicKeys();
  });
  after(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports a range that cuts through checkpoints, which verifies offline with the public key alone', async () => {
    const file = path.join(dir, 'middle.jsonl');
    const written = await exportBundle(app.services.db, app.services.audit.keys, { fromSeq: 6, toSeq: 29 }, file, { nodeId: 'test' });
    expect(written).to.deep.equal({ from: 6, to: 29, records: 24 });
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).to.include({ type: 'header', from_seq: 6, to_seq: 29 });
    expect(lines.at(-1).type).to.equal('trailer');
    expect(lines.filter((l) => l.type === 'record' && l.proof).length, 'records in partly covered checkpoints carry inclusion proofs').to.be.greaterThan(0);
    const result = await verifyBundle(file, { trustedKeys: [key] });
    expect(result.findings).to.deep.equal([]);
    expect(result).to.include({ ok: true, records: 24, fromSeq: 6, toSeq: 29 });
    expect(result.warnings).to.deep.equal([]);
  });

  it('exports by time and still verifies a bundle re-serialized by another JSON tool', async () => {
    const file = path.join(dir, 'by-time.jsonl');
    await exportBundle(app.services.db, app.services.audit.keys, { fromMs: 0, toMs: Date.now() + 1000 }, file, { nodeId: 'test' });
    expect((await verifyBundle(file, { trustedKeys: [key] })).ok).to.equal(true);
    const result = await edited(file, (lines) => lines.map((l) => JSON.stringify(JSON.parse(l), null, 0).replace(/^\{/, '{ ')));
    expect(result.findings).to.deep.equal([]);
  });

  it('catches a bundle edited after export: field changed, line deleted, line inserted, lines swapped, tail cut, signature replaced, wrong key', async () => {
    const file = path.join(dir, 'edit.jsonl');
    await exportBundle(app.services.db, app.services.audit.keys, { fromSeq: 3, toSeq: 35 }, file, { nodeId: 'test' });
    expect((await edited(file, (l) => l.map((x, i) => (i === recordLine(l, 12) ? x.replace('"user_id":"u', '"user_id":"x') : x)))).first).to.include({ seq: 12, reason: 'modified' });
    expect((await edited(file, (l) => l.filter((_, i) => i !== recordLine(l, 20)))).first).to.include({ seq: 20, reason: 'deleted' });
    expect((await edited(file, (l) => {
      const at = recordLine(l, 15);
      return [...l.slice(0, at), l[at].replace('"user_id":"u', '"user_id":"forged-'), ...l.slice(at)];
    })).first).to.include({ seq: 15, reason: 'inserted' });
    expect((await edited(file, (l) => {
      const a = recordLine(l, 9);
      [l[a], l[a + 1]] = [l[a + 1], l[a]];
      return l;
    })).first).to.include({ seq: 9, reason: 'reordered' });
    expect((await edited(file, (l) => [...l.slice(0, recordLine(l, 31)), l.at(-1)!])).first).to.include({ seq: 31, reason: 'truncated' });
    expect((await edited(file, (l) => l.slice(0, recordLine(l, 31)))).first).to.include({ seq: 31, reason: 'truncated' });
    const signatureReplaced = await edited(file, (l) => l.map((x) => (x.includes('"type":"checkpoint"') && x.includes('"number":2,') ? x.replace(/"signature":"[^"]+"/, `"signature":"${Buffer.alloc(64, 7).toString('base64')}"`) : x)));
    expect(signatureReplaced.first?.reason).to.equal('bad_signature');
    const other = new AuditKeyDir(dir).generate();
    const wrongKey = await verifyBundle(file, { trustedKeys: [other] });
    expect(wrongKey.ok).to.equal(false);
    expect(wrongKey.first?.reason).to.equal('bad_signature');
  });

  it('rotates the signing key (audited); a bundle across the rotation verifies with the old key pinned', async () => {
    const oldKey = key;
    const { oldKeyId, newKeyId } = await rotateAuditKey(app.services.db, app.services.audit.keys, { dataDir: app.dataDir, nodeId: 'test', actor: { user_agent: 'test' }, apiPath: 'test' });
    expect(oldKeyId).to.equal(oldKey.keyId);
    for (let i = 40; i < 50; i++) await record(i);
    await app.services.audit.sync();
    const rotated = await lastRecord(app, 'rotate_audit_key');
    expect(rotated.event.resulting_state.key_id).to.equal(newKeyId);
    const newest = await app.ownerDb('audit_checkpoints').orderBy('number', 'desc').first('body');
    expect(JSON.parse(newest.body).key_id).to.equal(newKeyId);
    const file = path.join(dir, 'rotation.jsonl');
    await exportBundle(app.services.db, app.services.audit.keys, {}, file, { nodeId: 'test' });
    expect((await verifyBundle(file, { trustedKeys: [oldKey] })).findings).to.deep.equal([]);
    const keys = app.services.audit.keys.publicKeys();
    expect(keys.map((k) => k.keyId)).to.have.members([oldKeyId, newKeyId]);
    expect((await verifyDatabase(app.ownerDb, { trustedKeys: [oldKey], checkpointFiles: [app.services.audit.checkpointFile] })).ok).to.equal(true);
  });

  it('runs `custodian audit verify`, `export`, `verify --bundle` and reports tampering with exit code 2', async function () {
    this.timeout(90_000);
    const target = (app.ownerDb.client.config as { connection: PgTarget }).connection;
    const env = {
      DATABASE_URL: `postgresql://${target.user}:${encodeURIComponent(target.password)}@localhost:${target.port}/${target.database}?host=${encodeURIComponent(target.host)}`,
      CUSTODIAN_DATA_DIR: app.dataDir,
      CUSTODIAN_LOG_LEVEL: 'warn',
    };
    const clean = await runCli(['audit', 'verify'], env);
    expect(clean.stdout, clean.stderr).to.match(/Audit log intact: records 1\.\.\d+/);
    expect(clean.code).to.equal(0);
    const bundle = path.join(dir, 'cli.jsonl');
    const exported = await runCli(['audit', 'export', '--from', new Date(0).toISOString(), '--to', String(Date.now() + 60_000), '--out', bundle], env);
    expect(exported.code, exported.stderr).to.equal(0);
    const pubFile = path.join(dir, 'pinned.pem');
    fs.writeFileSync(pubFile, app.services.audit.keys.publicKeys().map((k) => k.publicKeyPem).join(''));
    expect(readPublicKeys(pubFile)).to.have.length(2);
    const offline = await runCli(['audit', 'verify', '--bundle', bundle, '--public-key', pubFile], {});
    expect(offline.code, offline.stdout + offline.stderr).to.equal(0);
    expect(await lastRecord(app, 'verify_audit_log')).to.not.equal(undefined);
    expect(await lastRecord(app, 'export_audit_log')).to.not.equal(undefined);
    await asSuperuser(app.ownerDb, (trx) => trx.raw(`UPDATE audit_log SET record = replace(record, '"user_id":"u7"', '"user_id":"u8"') WHERE seq = (SELECT seq FROM audit_log WHERE record LIKE '%"user_id":"u7"%' LIMIT 1)`));
    const seq = Number((await app.ownerDb('audit_log').whereRaw(`record LIKE '%"user_id":"u8"%'`).orderBy('seq').first('seq')).seq);
    const dirty = await runCli(['audit', 'verify'], env);
    expect(dirty.code).to.equal(2);
    expect(dirty.stdout).to.include(`first bad sequence number ${seq}: modified`);
  });
});
