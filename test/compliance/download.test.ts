import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyExportZip } from '../../compliance/custody/verify.ts';
import { request } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { batchesOf, buildFixture, runExport, waitForJob, zipEntries, type Fixture } from './fixture.ts';

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

describe('export downloads, incremental runs and legacy compliance reports', () => {
  let f: Fixture;
  let scratch: string;

  before(async function () {
    this.timeout(60_000);
    f = await buildFixture({ CUSTODIAN_EXPORT_BATCH_SIZE: '3' });
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-download-'));
  });
  after(async () => {
    await f?.app.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  const get = (token: string, urlPath: string, headers: Record<string, string> = {}) => fetch(f.app.url + urlPath, { headers: { Authorization: `Bearer ${token}`, ...headers } });

  it('continues each incremental export where the last one stopped, in batches that chain', async () => {
    const first = await runExport(f, { format: 'csv' });
    const batches = await batchesOf(f.app, first.id);
    expect(batches.length).to.be.greaterThan(2);
    // A later batch starts with the people already in its channels.
    const later = (await zipEntries(batches[2].file)).get('posts.csv')!.toString();
    expect(later).to.match(/was already in the channel,previously-joined/);
    expect(Number(first.data.messages_exported)).to.be.greaterThan(8);

    await client4(f.app, f.alice.token).createPost({ channel_id: f.channels.town, message: 'after the first export' } as never);
    await new Promise((r) => setTimeout(r, 1100));
    const second = await runExport(f, { format: 'csv' });
    const rows = await f.app.ownerDb('compliance_export_batches').whereIn('job_id', [first.id, second.id]).orderBy('id');
    const firstEnd = rows.filter((r) => r.job_id === first.id).at(-1);
    const secondStart = rows.find((r) => r.job_id === second.id);
    expect([Number(secondStart.from_update_at), secondStart.from_post_id]).to.deep.equal([Number(firstEnd.to_update_at), firstEnd.to_post_id]);
    const csv = (await zipEntries((await batchesOf(f.app, second.id))[0].file)).get('posts.csv')!.toString();
    expect(csv).to.include('after the first export');
    expect(csv).to.not.include('Hello team');
  });

  it('streams a multi-batch job as one zip of its batch zips, with byte ranges, to users allowed to download', async () => {
    const job = await runExport(f, { format: 'jsonl', from: '0' });
    const batches = await batchesOf(f.app, job.id);
    expect(batches.length).to.be.greaterThan(1);

    const whole = await get(f.officer.token, `/api/v4/jobs/${job.id}/download`);
    expect(whole.status).to.equal(200);
    expect(whole.headers.get('content-type')).to.equal('application/zip');
    expect(whole.headers.get('accept-ranges')).to.equal('bytes');
    expect(whole.headers.get('content-disposition')).to.match(/^attachment; filename="compliance-export-\d{4}-\d\d-\d\d-[a-z0-9]{26}\.zip"/);
    const body = Buffer.from(await whole.arrayBuffer());
    expect(body.length).to.equal(Number(whole.headers.get('content-length')));
    const bundle = path.join(scratch, 'bundle.zip');
    fs.writeFileSync(bundle, body);
    const inner = await zipEntries(bundle);
    expect([...inner.keys()]).to.deep.equal(batches.map((b) => path.basename(b.file)));
    for (const b of batches) {
      const bytes = inner.get(path.basename(b.file))!;
      expect(sha256(bytes)).to.equal(b.sha256);
      const copy = path.join(scratch, `batch-${b.seq}.zip`);
      fs.writeFileSync(copy, bytes);
      expect((await verifyExportZip(copy)).ok).to.equal(true);
    }

    const start = 100;
    const end = body.length - 50;
    const part = await get(f.officer.token, `/api/v4/jobs/${job.id}/download`, { Range: `bytes=${start}-${end}` });
    expect(part.status).to.equal(206);
    expect(part.headers.get('content-range')).to.equal(`bytes ${start}-${end}/${body.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(body.subarray(start, end + 1))).to.equal(true);
    const tail = await get(f.officer.token, `/api/v4/jobs/${job.id}/download`, { Range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(body.subarray(body.length - 10))).to.equal(true);
    expect((await get(f.officer.token, `/api/v4/jobs/${job.id}/download`, { Range: `bytes=${body.length}-` })).status).to.equal(416);

    expect((await get(f.alice.token, `/api/v4/jobs/${job.id}/download`)).status).to.equal(404);

    // The run (requested, finished) and every download are in the audit log, with who and which job.
    const audited = async () => {
      const rows = await f.app.ownerDb.raw('SELECT record FROM audit_log UNION ALL SELECT record FROM audit_outbox');
      return rows.rows.map((r: { record: string }) => JSON.parse(r.record)).filter((r: { event: { parameters: { job_id?: string } } }) => r.event?.parameters?.job_id === job.id);
    };
    const events = (await audited()).map((r: { event_name: string; status: string; actor: { user_id: string } }) => `${r.event_name} ${r.status} by ${r.actor.user_id || 'worker'}`);
    expect(events).to.include.members([`compliance_export_run_requested success by ${f.officer.user.id}`, `compliance_export_run_finished success by ${f.officer.user.id}`, `compliance_export_downloaded success by ${f.officer.user.id}`]);
    expect(events.filter((e: string) => e.startsWith('compliance_export_downloaded success')).length).to.equal(4);
    // The refused attempt is on record too: who tried, and that it failed.
    expect(events.filter((e: string) => e.startsWith('compliance_export_downloaded fail'))).to.deep.equal([`compliance_export_downloaded fail by ${f.alice.user.id}`]);
  });

  it('runs a legacy compliance report (dates, users, keywords) into a zip with meta.json and posts.csv', async () => {
    const client = client4(f.app, f.officer.token);
    const report = await client.createComplianceReport({ desc: 'wording review', emails: 'alice@example.com', keywords: 'wording,draft', start_at: 0, end_at: Date.now() + 60_000 });
    expect(report).to.include({ desc: 'wording review', status: 'created', type: 'adhoc' });
    const row = await f.app.ownerDb('compliance_reports').where({ id: report.id }).first();
    await waitForJob(f.app, f.officer.token, row.job_id);
    expect((await client.getComplianceReport(report.id))).to.include({ status: 'finished', count: 2 });
    expect((await client.getComplianceReports()).map((r) => r.id)).to.include(report.id);
    const res = await get(f.officer.token, `/api/v4/compliance/reports/${report.id}/download`);
    expect(res.status).to.equal(200);
    const file = path.join(scratch, 'report.zip');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const entries = await zipEntries(file);
    expect(JSON.parse(entries.get('meta.json')!.toString())).to.include({ id: report.id, desc: 'wording review', count: 2 });
    const lines = entries.get('posts.csv')!.toString().trim().split('\r\n');
    expect(lines[0]).to.equal('TeamName,TeamDisplayName,ChannelName,ChannelDisplayName,ChannelType,UserUsername,UserEmail,UserNickname,UserType,PostId,PostCreateAt,PostUpdateAt,PostDeleteAt,PostRootId,PostParentId,PostOriginalId,PostMessage,PostType,PostProps,PostHashtags,PostFileIds');
    expect(lines.slice(1).map((l) => l.split(',')[16])).to.deep.equal(['First draft', 'Final wording']);
    expect(lines[1].split(',')[15], 'the replaced version points at its post').to.equal(f.posts.edited);
    expect(lines[1]).to.match(/,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/);

    expect(await statusOf(() => client4(f.app, f.alice.token).createComplianceReport({ start_at: 0, end_at: 1 }))).to.equal(403);
    expect((await request(f.app, 'POST', '/api/v4/compliance/reports', { token: f.officer.token, body: { start_at: 'soon' } })).status).to.equal(400);
    expect((await request(f.app, 'GET', `/api/v4/compliance/reports/${report.id}/download`, { token: f.alice.token })).status).to.equal(403);
    const records = (await f.app.ownerDb.raw('SELECT record FROM audit_log UNION ALL SELECT record FROM audit_outbox')).rows.map((r: { record: string }) => JSON.parse(r.record));
    const downloads = records.filter((r: { event_name: string; event: { parameters: { report_id?: string } } }) => r.event_name === 'compliance_report_downloaded' && r.event.parameters.report_id === report.id);
    expect(downloads.map((r: { status: string; actor: { user_id: string } }) => `${r.status} by ${r.actor.user_id}`)).to.have.members([`success by ${f.officer.user.id}`, `fail by ${f.alice.user.id}`]);
    expect(downloads.find((r: { status: string }) => r.status === 'fail').error).to.include({ status_code: 403 });
  });
});
