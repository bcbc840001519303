import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readZip } from '../../compliance/export/zip-read.ts';
import { DAT_NEWLINE, loadFileFields, parseDat } from '../../compliance/ediscovery/export/loadfile.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { runCli } from '../support/cli.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { auditRecords } from '../holds/support.ts';
import { insertFile } from '../retention/helpers.ts';

/** Minimal RFC 4180 reader for the test: quoted fields with "" escapes and CRLF inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = text.startsWith('\ufeff') ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), i++;
    } else field += c;
  }
  return rows;
}

async function unzip(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const entry of readZip(file)) {
    const chunks: Buffer[] = [];
    for await (const c of await entry.open()) chunks.push(c as Buffer);
    out.set(entry.name, Buffer.concat(chunks));
  }
  return out;
}

describe('case export: EML, Concordance DAT and CSV load files, native JSONL, signed manifest', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;
  let caseId: string;
  let holdId: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-ediscovery-'));
  const attachment = Buffer.from('%PDF-1.4 contract text ' + crypto.randomBytes(300).toString('hex'));
  const ids: Record<string, string> = {};

  const post = async (who: TestUser, message: string, extra: Record<string, unknown> = {}) => {
    const res = await request(app, 'POST', '/api/v4/posts', { token: who.token, body: { channel_id: channelId, message, ...extra } });
    expect(res.status, res.text).to.equal(201);
    return res.json.id as string;
  };
  const runExport = async (body: unknown) => {
    const created = await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/exports`, { token: officer.token, body });
    expect(created.status, created.text).to.equal(201);
    let job = created.json;
    for (let i = 0; i < 300 && !['success', 'warning', 'error'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await request(app, 'GET', `/api/v4/jobs/${job.id}`, { token: officer.token })).json;
    }
    expect(job.status, JSON.stringify(job)).to.equal('success');
    const res = await fetch(`${app.url}/api/v4/jobs/${job.id}/download`, { headers: { Authorization: `Bearer ${officer.token}` } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/zip');
    const file = path.join(tmp, `${job.id}.zip`);
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return { job, file };
  };

  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app, { username: 'alice' });
    bob = await makeUser(app, { username: 'bob' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user, bob.user] });
    channelId = (await makeChannel(app.ownerDb, team.id, { members: [alice.user, bob.user] })).id;
    ids.contract = await post(bob, 'Contract draft attached');
    const file = await insertFile(app, { user: bob.user.id, channel: channelId, at: Date.now(), postId: ids.contract, content: attachment.toString('latin1') });
    await app.ownerDb('file_infos').where({ id: file.id }).update({ name: 'Vertrag – Entwurf.pdf', mime_type: 'application/pdf' });
    await app.ownerDb('posts').where({ id: ids.contract }).update({ file_ids: JSON.stringify([file.id]) });
    ids.reply = await post(alice, 'Thanks.\nI will review it — tonight ☕', { root_id: ids.contract });
    ids.formula = await post(bob, '=HYPERLINK("http://evil","click")');
    ids.edited = await post(bob, 'Price is 10k');
    await request(app, 'PUT', `/api/v4/posts/${ids.edited}/patch`, { token: bob.token, body: { message: 'Price is 12k' } });
    ids.deleted = await post(bob, 'Shred the old version');
    await request(app, 'DELETE', `/api/v4/posts/${ids.deleted}`, { token: bob.token });
    await request(app, 'POST', '/api/v4/reactions', { token: alice.token, body: { user_id: alice.user.id, post_id: ids.edited, emoji_name: 'eyes' } });
    const hold = await request(app, 'POST', '/api/v4/legal_holds', { token: officer.token, body: { display_name: 'Bob', user_ids: [bob.user.id] } });
    holdId = hold.json.id;
    const created = await request(app, 'POST', '/api/v4/ediscovery/cases', { token: officer.token, body: { name: 'Pricing', hold_id: holdId } });
    caseId = created.json.id;
  });
  after(async () => {
    await app.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exports everything the case\'s hold covers, and `custodian export verify` accepts the zip', async function () {
    this.timeout(60_000);
    const { job, file } = await runExport({});
    // Five messages (alice's reply is in bob's channel) plus the price's prior version.
    expect(job.data).to.include({ items: '6', posts: '5', versions: '1', attachments: '1', warnings: '0' });
    const verify = await runCli(['export', 'verify', file], { CUSTODIAN_DATA_DIR: app.dataDir, CUSTODIAN_LOG_LEVEL: 'silent' });
    expect(verify.stdout, verify.stderr).to.match(/OK: the manifest's signature is valid and all \d+ files match it/);
    expect(verify.stdout).to.match(/Signer: matches/);
    expect(verify.code).to.equal(0);

    const entries = await unzip(file);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString());
    expect(manifest).to.include({ format: 'ediscovery', job_id: job.id });
    expect(manifest.files.map((f: { name: string }) => f.name)).to.include.members(['loadfile.dat', 'loadfile.csv', 'native/posts.jsonl']);

    // The DAT load file opens as a table: a header, then one row per EML, every row as wide.
    const datText = entries.get('loadfile.dat')!.toString('utf8');
    expect(datText.startsWith('\ufeffþDOCIDþ\u0014þPARENTDOCIDþ')).to.equal(true);
    expect(datText.endsWith('\r\n')).to.equal(true);
    const dat = parseDat(datText);
    expect(dat[0]).to.deep.equal([...loadFileFields]);
    const rows = dat.slice(1).map((values) => Object.fromEntries(loadFileFields.map((f, i) => [f, values[i]])));
    for (const values of dat) expect(values).to.have.length(loadFileFields.length);
    expect(rows).to.have.length(6);
    const emls = [...entries.keys()].filter((n) => n.startsWith('messages/'));
    expect(emls).to.have.length(6);
    for (const row of rows) {
      const eml = entries.get(row.NATIVEPATH)!;
      expect(row.SHA256, row.DOCID).to.equal(crypto.createHash('sha256').update(eml).digest('hex'));
    }
    expect(new Set(rows.map((r) => r.DOCID)).size).to.equal(6);
    const byPost = (id: string) => rows.filter((r) => r.POSTID === id);
    expect(byPost(ids.edited).map((r) => [r.DOCID.length, r.ITEMTYPE, r.STATE])).to.deep.equal([[15, 'prior_version', 'prior_version'], [11, 'message', 'edited']]);
    expect(byPost(ids.edited)[0].PARENTDOCID).to.equal(byPost(ids.edited)[1].DOCID);
    expect(byPost(ids.deleted)[0]).to.include({ STATE: 'deleted', CUSTODIAN: 'bob' });
    expect(byPost(ids.deleted)[0].DATEDELETED).to.match(/^\d{4}-\d\d-\d\dT/);
    const reply = byPost(ids.reply)[0];
    expect(reply.SUBJECT).to.equal('Thanks. I will review it — tonight ☕');
    expect(reply).to.include({ FROM: 'alice <alice@example.com>', CUSTODIAN: 'bob', PARTICIPANTS: 'alice; bob' });
    expect(byPost(ids.contract)[0]).to.include({ ATTACHCOUNT: '1', ATTACHNAMES: 'Vertrag – Entwurf.pdf' });
    expect(datText).to.not.include('Thanks.\n');
    void DAT_NEWLINE;

    // The CSV has the same table, with formula-looking values neutralised.
    const csv = parseCsv(entries.get('loadfile.csv')!.toString('utf8'));
    expect(csv[0]).to.deep.equal([...loadFileFields]);
    expect(csv).to.have.length(7);
    const formulaRow = csv.find((r) => r[loadFileFields.indexOf('POSTID')] === ids.formula)!;
    expect(formulaRow[loadFileFields.indexOf('SUBJECT')]).to.equal('\'=HYPERLINK("http://evil","click")');

    // One RFC 5322 message per item; the attachment travels as a base64 MIME part, byte for byte.
    const contract = entries.get(byPost(ids.contract)[0].NATIVEPATH)!.toString('utf8');
    expect(contract).to.match(/^From: bob <bob@example\.com>\r\n/);
    expect(contract).to.match(/\r\nTo: alice <alice@example\.com>\r\n/);
    expect(contract).to.match(/\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    expect(contract).to.match(/\r\nMessage-ID: <[a-z0-9]{26}\.0@[^>]+>\r\n/);
    expect(contract).to.match(/\r\nContent-Type: multipart\/mixed; boundary="([^"]+)"\r\n/);
    expect(contract).to.include("Content-Disposition: attachment; filename=\"Vertrag _ Entwurf.pdf\"; filename*=UTF-8''Vertrag%20%E2%80%93%20Entwurf.pdf");
    const part = /X-Custodian-File-SHA256: [0-9a-f]{64}\r\n\r\n([A-Za-z0-9+/=\r\n]+?)--/.exec(contract)!;
    expect(Buffer.from(part[1].replace(/\r\n/g, ''), 'base64').equals(attachment)).to.equal(true);
    const replyEml = entries.get(reply.NATIVEPATH)!.toString('utf8');
    expect(replyEml).to.include(`In-Reply-To: <${ids.contract}.0@`);
    const body = /charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)--/.exec(replyEml)!;
    expect(Buffer.from(body[1].replace(/\r\n/g, ''), 'base64').toString('utf8')).to.equal('Thanks.\nI will review it — tonight ☕');
    for (const name of emls) expect(entries.get(name)!.toString('latin1'), name).to.not.match(/[^\r]\n/);

    // The hold's native JSONL: every post with every version and reaction.
    const natives = entries.get('native/posts.jsonl')!.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(natives).to.have.length(5);
    const edited = natives.find((n) => n.post.id === ids.edited);
    expect(edited.versions.map((v: { message: string; reason: string }) => [v.reason, v.message])).to.deep.equal([['edit', 'Price is 10k']]);
    expect(edited.reactions.map((r: { emoji_name: string }) => r.emoji_name)).to.deep.equal(['eyes']);
    expect(natives.find((n) => n.post.id === ids.deleted).versions[0].reason).to.equal('delete');
    expect(natives.find((n) => n.post.id === ids.contract).files[0]).to.not.have.property('path');

    const requested = await auditRecords(app.ownerDb, 'ediscovery_export_requested');
    expect(requested.at(-1).actor.user_id).to.equal(officer.user.id);
    expect((await auditRecords(app.ownerDb, 'ediscovery_export_downloaded')).at(-1).event.parameters.job_id).to.equal(job.id);
  });

  it('exports a saved search of the case, and only the compliance role may ask', async function () {
    this.timeout(60_000);
    const saved = await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/searches`, { token: officer.token, body: { name: 'Prices', terms: 'price' } });
    expect(saved.status, saved.text).to.equal(201);
    const { job, file } = await runExport({ search_id: saved.json.id, docid_prefix: 'PRC' });
    expect(job.data).to.include({ items: '2', posts: '1' });
    const entries = await unzip(file);
    const rows = parseDat(entries.get('loadfile.dat')!.toString('utf8')).slice(1);
    expect(rows.map((r) => r[0])).to.deep.equal(['PRC0000001.001', 'PRC0000001']);
    const verify = await runCli(['export', 'verify', file], { CUSTODIAN_DATA_DIR: app.dataDir, CUSTODIAN_LOG_LEVEL: 'silent' });
    expect(verify.code, verify.stdout).to.equal(0);

    expect((await request(app, 'POST', `/api/v4/ediscovery/cases/${caseId}/exports`, { token: alice.token, body: {} })).status).to.equal(403);
    expect((await request(app, 'POST', '/api/v4/jobs', { token: alice.token, body: { type: 'ediscovery_export', data: { hold_id: holdId } } })).status).to.equal(403);
    expect((await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'ediscovery_export', data: {} } })).status).to.equal(400);
    expect((await request(app, 'GET', `/api/v4/jobs/${job.id}/download`, { token: alice.token })).status).to.equal(404);
  });
});
