import { expect } from 'chai';
import fs from 'node:fs';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { batchesOf, waitForJob } from './fixture.ts';

describe('compliance console API: directory and export verification', () => {
  let app: TestApp;
  let officer: TestUser;
  let alice: TestUser;
  let privateChannel: { id: string; name: string };
  let teamId: string;

  before(async function () {
    this.timeout(60_000);
    app = await bootApp({ CUSTODIAN_JOB_ROLE: 'all' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    alice = await makeUser(app, { username: 'alice-directory' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user] });
    teamId = team.id;
    privateChannel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [alice.user] });
    await app.ownerDb('channels').where({ id: privateChannel.id }).update({ display_name: 'Board 100%_Secret' });
    expect((await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: privateChannel.id, message: 'quarterly numbers' } })).status).to.equal(201);
    // An export's end time trails the clock by a second: let the post fall inside it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });
  after(async () => app?.close());

  const directory = (token: string | undefined, query: string) => request(app, 'GET', `/api/v4/compliance/directory?${query}`, { token });

  it('finds users and private channels of teams the officer is not in, by term or by id', async () => {
    const byTerm = await directory(officer.token, 'term=board%20100%25_');
    expect(byTerm.status).to.equal(200);
    expect(byTerm.json.channels.map((c: { id: string }) => c.id)).to.deep.equal([privateChannel.id]);
    expect(byTerm.json.channels[0]).to.include({ type: 'P', team_id: teamId, archived: false });
    expect((await directory(officer.token, 'term=board%20100x')).json.channels, '% and _ are literal').to.deep.equal([]);

    const users = (await directory(officer.token, 'term=ALICE-dir')).json.users;
    expect(users).to.deep.equal([{ id: alice.user.id, username: 'alice-directory', display_name: users[0].display_name, deactivated: false }]);
    expect(users[0]).to.not.have.property('email');

    const byIds = await directory(officer.token, `ids=${alice.user.id},${privateChannel.id},${teamId}`);
    expect(byIds.json.users.map((u: { id: string }) => u.id)).to.deep.equal([alice.user.id]);
    expect(byIds.json.channels.map((c: { id: string }) => c.id)).to.deep.equal([privateChannel.id]);
    expect(byIds.json.teams.map((t: { id: string }) => t.id)).to.deep.equal([teamId]);
  });

  it('refuses other users (403), the anonymous (401) and bad queries (400) with Mattermost errors', async () => {
    expect((await directory(undefined, 'term=a')).status).to.equal(401);
    const denied = await directory(alice.token, 'term=a');
    expect(denied.status).to.equal(403);
    expect(denied.json).to.include({ status_code: 403 });
    for (const bad of ['', 'term=', 'ids=nope', `term=a&ids=${alice.user.id}`, `term=${'x'.repeat(65)}`]) {
      const res = await directory(officer.token, bad);
      expect(res.status, bad).to.equal(400);
      expect(res.json, bad).to.have.property('id');
    }
  });

  it('verifies a finished export’s signed manifest, and reports a zip changed after the fact', async function () {
    this.timeout(30_000);
    const created = await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'message_export', data: { format: 'jsonl' } } });
    expect(created.status).to.equal(201);
    const job = await waitForJob(app, officer.token, created.json.id);
    expect(job.status).to.equal('success');
    const url = `/api/v4/compliance/exports/${job.id}/verification`;

    const intact = await request(app, 'GET', url, { token: officer.token });
    expect(intact.status).to.equal(200);
    expect(intact.json).to.include({ job_id: job.id, ok: true });
    expect(intact.json.zips).to.have.length(1);
    expect(intact.json.zips[0]).to.include({ ok: true, signed_by_this_server: true });
    expect(intact.json.zips[0].files_checked).to.be.greaterThan(0);
    expect(intact.json.zips[0].signer_fingerprint).to.match(/^[0-9a-f]{64}$/);

    // Someone with access to the export store flips a byte in the zip.
    const [batch] = await batchesOf(app, job.id);
    const bytes = fs.readFileSync(batch.file);
    // Inside the first entry's compressed data (not a header or data descriptor, which readers ignore).
    const dataStart = 30 + bytes.readUInt16LE(26) + bytes.readUInt16LE(28);
    const nextHeader = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), dataStart);
    const at = Math.floor((dataStart + (nextHeader > 0 ? nextHeader - 16 : bytes.length / 2)) / 2);
    bytes[at] ^= 0xff;
    fs.writeFileSync(batch.file, bytes);
    const changed = await request(app, 'GET', url, { token: officer.token });
    expect(changed.status).to.equal(200);
    expect(changed.json.ok).to.equal(false);
    expect(changed.json.zips[0].problems.length).to.be.greaterThan(0);

    // A change where zip readers do not look (the first entry's data descriptor) is caught by the
    // whole-zip hash recorded when the batch was written.
    bytes[at] ^= 0xff;
    expect(nextHeader).to.be.greaterThan(0);
    bytes[nextHeader - 1] ^= 0xff;
    fs.writeFileSync(batch.file, bytes);
    const outside = await request(app, 'GET', url, { token: officer.token });
    expect(outside.json.ok).to.equal(false);
    expect(outside.json.zips[0].problems.join(' ')).to.match(/SHA-256/);

    expect((await request(app, 'GET', url, { token: alice.token })).status, 'others do not see the job').to.equal(404);
    expect((await request(app, 'GET', '/api/v4/compliance/exports/abcdefghijklmnopqrstuvwxyz/verification', { token: officer.token })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/compliance/exports/nope/verification', { token: officer.token })).status).to.equal(400);
  });

  it('refuses to verify jobs that carry no signed manifest (400)', async () => {
    const created = await request(app, 'POST', '/api/v4/jobs', { token: officer.token, body: { type: 'data_retention' } });
    expect(created.status).to.equal(201);
    const res = await request(app, 'GET', `/api/v4/compliance/exports/${created.json.id}/verification`, { token: officer.token });
    expect(res.status).to.equal(400);
    expect(res.json).to.include({ id: 'api.job.verify.not_signed.app_error' });
  });
});
