import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureExportKey, loadExportKey } from '../../compliance/custody/keys.ts';
import { signDetached } from '../../compliance/custody/signature.ts';
import { ZipWriter } from '../../compliance/export/zip.ts';
import { runCli } from '../support/cli.ts';
import { batchesOf, buildFixture, runExport, zipEntries, type Fixture } from './fixture.ts';

describe('chain of custody: signed manifests and `custodian export verify`', () => {
  let f: Fixture;
  let original: string;
  let entries: Map<string, Buffer>;
  let scratch: string;
  let cert: string;

  before(async function () {
    this.timeout(60_000);
    f = await buildFixture();
    const job = await runExport(f, { format: 'actiance', from: '0' });
    original = (await batchesOf(f.app, job.id))[0].file;
    entries = await zipEntries(original);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-custody-'));
    cert = path.join(f.app.dataDir, 'keys', 'export-signing-cert.pem');
  });
  after(async () => {
    await f?.app.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  /** A copy of the batch zip with some entries changed (undefined removes one). */
  async function tampered(name: string, changes: Record<string, Buffer | undefined>): Promise<string> {
    const file = path.join(scratch, name);
    const zip = new ZipWriter(file, { date: new Date() });
    const all = new Map(entries);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) all.delete(k);
      else all.set(k, v);
    }
    for (const [k, v] of all) await zip.add(k, v);
    await zip.finish();
    return file;
  }

  const verify = (zip: string, extra: string[] = []) => runCli(['export', 'verify', zip, ...extra], { CUSTODIAN_DATA_DIR: f.app.dataDir, CUSTODIAN_LOG_LEVEL: 'silent' });

  it('puts manifest.json (job, cursor range, counts, SHA-256 of every file) and a detached CMS signature in every batch zip', () => {
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    expect(manifest).to.include({ manifest_version: 1, format: 'actiance', batch: 1 });
    expect(manifest.cursor.from).to.deep.equal({ update_at: -1, post_id: null });
    expect(manifest.counts.messages).to.be.greaterThan(0);
    const names = manifest.files.map((x: { name: string }) => x.name);
    expect(names).to.include.members(['actiance_export.xml', 'warning.txt']);
    expect([...entries.keys()].filter((n) => !names.includes(n)).sort()).to.deep.equal(['manifest.json', 'manifest.json.p7s']);
    expect(entries.get('manifest.json.p7s')![0]).to.equal(0x30); // DER SEQUENCE
  });

  it('passes an untouched zip, pinned to the server certificate', async () => {
    const result = await verify(original, ['--cert', cert]);
    expect(result.stdout).to.match(/OK: the manifest's signature is valid and all \d+ files match it\./);
    expect(result.stdout).to.include('Signer: matches');
    expect(result.code).to.equal(0);
  });

  it('is a standard CMS signature: OpenSSL verifies it too', function () {
    if (spawnSync('openssl', ['version']).status !== 0) this.skip();
    fs.writeFileSync(path.join(scratch, 'm.json'), entries.get('manifest.json')!);
    fs.writeFileSync(path.join(scratch, 'm.p7s'), entries.get('manifest.json.p7s')!);
    const out = execFileSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(scratch, 'm.p7s'), '-content', path.join(scratch, 'm.json'), '-CAfile', cert, '-purpose', 'any', '-out', '/dev/null'], { stdio: 'pipe' });
    expect(out.toString()).to.equal('');
  });

  it('fails when a file was changed, naming the file and both hashes', async () => {
    const xml = entries.get('actiance_export.xml')!.toString().replace('Final wording', 'Final w0rding');
    const result = await verify(await tampered('changed.zip', { 'actiance_export.xml': Buffer.from(xml) }));
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/FAILED: 1 problem:\n {2}- actiance_export\.xml: content differs \(manifest SHA-256 [0-9a-f]{64}, zip [0-9a-f]{64}\)/);
  });

  it('fails when a file was removed or added', async () => {
    const attachment = [...entries.keys()].find((n) => n.startsWith('files/'))!;
    const result = await verify(await tampered('removed.zip', { [attachment]: undefined, 'extra.txt': Buffer.from('smuggled') }));
    expect(result.code).to.equal(1);
    expect(result.stdout).to.include(`${attachment}: listed in the manifest but missing from the zip`);
    expect(result.stdout).to.include('extra.txt: in the zip but not listed in the manifest');
  });

  it('fails when the manifest was edited (the signature no longer matches)', async () => {
    const manifest = entries.get('manifest.json')!.toString().replace(/"messages": \d+/, '"messages": 1');
    const result = await verify(await tampered('manifest.zip', { 'manifest.json': Buffer.from(manifest) }));
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/signature: manifest\.json does not match its signature/);
  });

  it('fails when a file and the manifest were changed and re-signed with another key', async () => {
    const other = loadExportKey(ensureExportKey({ dataDir: path.join(scratch, 'other'), nodeId: 'mallory' }));
    const xml = Buffer.from(entries.get('actiance_export.xml')!.toString().replace('Final wording', 'Never said'));
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    const crypto = await import('node:crypto');
    manifest.files.find((x: { name: string }) => x.name === 'actiance_export.xml').sha256 = crypto.createHash('sha256').update(xml).digest('hex');
    manifest.files.find((x: { name: string }) => x.name === 'actiance_export.xml').size = xml.length;
    const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
    const zip = await tampered('resigned.zip', { 'actiance_export.xml': xml, 'manifest.json': bytes, 'manifest.json.p7s': signDetached(bytes, other) });
    const result = await verify(zip, ['--cert', cert]);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.match(/signature: made with certificate [0-9a-f]{64}, not the expected [0-9a-f]{64}/);
  });
});
