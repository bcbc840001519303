import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadOrCreateKeyPair, generateSelfSigned } from '../../sso/keys.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { captureLogs } from './helpers.ts';

describe('generated SSO key pairs: one per cluster, in PostgreSQL', function () {
  this.timeout(60_000);
  let app: TestApp;
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-keys-'));
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    app = await bootApp();
  });
  after(async () => {
    await app?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives every concurrently starting node the same pair (one insert wins, all read it back)', async () => {
    const { db, logger } = app.services;
    const pairs = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateKeyPair(db, logger, { dataDir: dataDir(), name: 'race-test', commonName: 'chat.example.test' })));
    for (const pair of pairs) expect(pair).to.deep.equal(pairs[0]);
    // The key really belongs to the certificate.
    const signature = crypto.sign('sha256', Buffer.from('x'), pairs[0].key);
    expect(crypto.verify('sha256', Buffer.from('x'), new crypto.X509Certificate(pairs[0].cert).publicKey, signature)).to.equal(true);
    expect(await app.ownerDb('sso_key_pairs').where({ name: 'race-test' })).to.have.length(1);
  });

  it('adopts the pair an earlier version kept in the data directory, so the IdP\'s registered certificate keeps working', async () => {
    const dir = dataDir();
    const legacy = generateSelfSigned('legacy.example.test');
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.writeFileSync(path.join(dir, 'keys', 'legacy-test.key'), legacy.key);
    fs.writeFileSync(path.join(dir, 'keys', 'legacy-test.crt'), legacy.cert);
    const pair = await loadOrCreateKeyPair(app.services.db, app.services.logger, { dataDir: dir, name: 'legacy-test', commonName: 'x' });
    expect(pair).to.deep.equal(legacy);
    // Another node without the file gets the same one from the database.
    expect(await loadOrCreateKeyPair(app.services.db, app.services.logger, { dataDir: dataDir(), name: 'legacy-test', commonName: 'x' })).to.deep.equal(legacy);
  });

  it('keeps the cluster\'s pair over a different local one, and says so', async () => {
    const logs = captureLogs(app);
    const dir = dataDir();
    const cluster = await loadOrCreateKeyPair(app.services.db, app.services.logger, { dataDir: dataDir(), name: 'stray-test', commonName: 'x' });
    const stray = generateSelfSigned('stray.example.test');
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.writeFileSync(path.join(dir, 'keys', 'stray-test.key'), stray.key);
    fs.writeFileSync(path.join(dir, 'keys', 'stray-test.crt'), stray.cert);
    expect(await loadOrCreateKeyPair(app.services.db, app.services.logger, { dataDir: dir, name: 'stray-test', commonName: 'x' })).to.deep.equal(cluster);
    expect(logs.lines.some((l) => l.level === 'warn' && /not the cluster's/.test(l.msg))).to.equal(true);
  });

  it('uses configured key files as they are, without touching the database', async () => {
    const dir = dataDir();
    const configured = generateSelfSigned('configured.example.test');
    fs.writeFileSync(path.join(dir, 'sp.key'), configured.key);
    fs.writeFileSync(path.join(dir, 'sp.crt'), configured.cert);
    const pair = await loadOrCreateKeyPair(app.services.db, app.services.logger, { keyFile: path.join(dir, 'sp.key'), certFile: path.join(dir, 'sp.crt'), dataDir: dir, name: 'configured-test', commonName: 'x' });
    expect(pair).to.deep.equal(configured);
    expect(await app.ownerDb('sso_key_pairs').where({ name: 'configured-test' })).to.have.length(0);
  });
});
