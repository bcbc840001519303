import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { verifyExportZip } from '../../compliance/custody/verify.ts';
import { S3FileStore } from '../../server/files/s3-store.ts';
import { client4 } from '../support/client.ts';
import { buildFixture, runExport, waitForJob, zipEntries, type Fixture } from './fixture.ts';

// s3rver is CommonJS and ships no types: a real S3 HTTP server (SigV4 checked against its key pairs).
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
const accounts = (require('s3rver/lib/models/account') as { registry: Map<string, unknown> }).registry;

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('compliance exports to an S3-compatible store (a real S3 server on loopback)', () => {
  let server: InstanceType<typeof S3rver>;
  let scratch: string;
  let endpoint: string;
  let f: Fixture;
  const store = () => new S3FileStore({ endpoint, bucket: 'archive', prefix: 'custodian/', pathStyle: true, partBytes: 5 * MiB, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' });

  before(async function () {
    this.timeout(90_000);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-s3-'));
    server = new S3rver({ port: 0, address: '127.0.0.1', directory: path.join(scratch, 's3'), silent: true, configureBuckets: [{ name: 'archive' }] });
    endpoint = `http://127.0.0.1:${(await server.run()).port}`;
    f = await buildFixture({
      CUSTODIAN_EXPORT_STORE: 's3', CUSTODIAN_EXPORT_S3_ENDPOINT: endpoint, CUSTODIAN_EXPORT_S3_BUCKET: 'archive', CUSTODIAN_EXPORT_S3_PREFIX: 'custodian/',
      CUSTODIAN_EXPORT_S3_ACCESS_KEY_ID: 'S3RVER', CUSTODIAN_EXPORT_S3_SECRET_ACCESS_KEY: 'S3RVER', CUSTODIAN_EXPORT_S3_PART_SIZE_MB: '5',
    });
  });
  after(async () => {
    await f?.app.close();
    await server?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('uploads large objects in parts and reads them back whole and by range', async () => {
    const content = crypto.randomBytes(12 * MiB + 123);
    const written = await store().put('probe/large.bin', (async function* () {
      for (let i = 0; i < content.length; i += MiB) yield content.subarray(i, i + MiB);
    })());
    expect(written).to.deep.equal({ size: content.length, sha256: sha256(content) });
    expect((await store().stat('probe/large.bin'))?.size).to.equal(content.length);
    expect(sha256(await readAll(await store().open('probe/large.bin')))).to.equal(sha256(content));
    const start = 5 * MiB - 10;
    expect((await readAll(await store().open('probe/large.bin', { start, end: start + 19 }))).equals(content.subarray(start, start + 20))).to.equal(true);
    await store().delete('probe/large.bin');
    expect(await store().stat('probe/large.bin')).to.equal(undefined);
  });

  it('puts each batch zip in the bucket, not on local disk, and serves the download through the API with ranges', async function () {
    this.timeout(60_000);
    const job = await runExport(f, { format: 'actiance', from: '0' });
    const [batch] = await f.app.ownerDb('compliance_export_batches').where({ job_id: job.id }).orderBy('seq');
    expect(await store().stat(batch.file_key)).to.deep.include({ size: Number(batch.size) });
    expect(fs.existsSync(path.join(f.app.dataDir, 'exports', batch.file_key))).to.equal(false);
    expect(fs.readdirSync(path.join(f.app.dataDir, 'exports', '.tmp'))).to.deep.equal([]);

    const auth = { Authorization: `Bearer ${f.officer.token}` };
    const whole = await fetch(`${f.app.url}/api/v4/jobs/${job.id}/download`, { headers: auth });
    expect(whole.status).to.equal(200);
    const zip = Buffer.from(await whole.arrayBuffer());
    expect(sha256(zip)).to.equal(batch.sha256);
    const part = await fetch(`${f.app.url}/api/v4/jobs/${job.id}/download`, { headers: { ...auth, Range: 'bytes=100-199' } });
    expect(part.status).to.equal(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(zip.subarray(100, 200))).to.equal(true);

    // What came back is the signed batch, intact.
    const file = path.join(scratch, 'downloaded.zip');
    fs.writeFileSync(file, zip);
    expect((await verifyExportZip(file)).ok).to.equal(true);
    expect((await zipEntries(file)).get('actiance_export.xml')!.toString()).to.include('Hello team');
  });

  it('fails the job with the store\'s own reason when the credentials are refused, without moving the cursor', async function () {
    this.timeout(60_000);
    const key = accounts.get('S3RVER');
    accounts.delete('S3RVER'); // the server no longer knows the access key the configuration gives
    try {
      const created = await client4(f.app, f.officer.token).createJob({ type: 'message_export', data: { format: 'csv' } } as never);
      const done = await waitForJob(f.app, f.officer.token, created.id);
      expect(done.status).to.equal('error');
      expect(done.data.error).to.match(/S3 refused PutObject .*HTTP 403 InvalidAccessKeyId/);
      expect(await f.app.ownerDb('compliance_export_batches').where({ job_id: created.id })).to.have.length(0);
      const records = (await f.app.ownerDb.raw(`SELECT record FROM audit_log UNION ALL SELECT record FROM audit_outbox`)).rows.map((r: { record: string }) => JSON.parse(r.record));
      const failed = records.find((r: { event_name: string; event: { parameters: { job_id?: string } } }) => r.event_name === 'compliance_export_run_failed' && r.event.parameters.job_id === created.id);
      expect(failed, 'audit record of the failed run').to.not.equal(undefined);
      expect(failed.status).to.equal('fail');
      expect(failed.event.parameters.error).to.match(/InvalidAccessKeyId/);
    } finally {
      accounts.set('S3RVER', key);
    }
  });
});
