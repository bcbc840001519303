import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyExportZip } from '../../compliance/custody/verify.ts';
import { createKnex, type Knex } from '../../server/db/connection.ts';
import { newId } from '../../server/lib/ids.ts';
import { exited, freePort, startServerProcess } from '../support/cli.ts';
import { createTestDatabase } from '../support/postgres.ts';
import { zipEntries } from '../compliance/fixture.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Seeds posts whose (update_at, id) keys tie in groups of three (so batch boundaries fall inside a
 * millisecond), some edited (a replaced version each) and some deleted.
 */
async function seed(db: Knex, posts: number): Promise<void> {
  const base = Date.now() - 3_600_000;
  const users = [newId(), newId(), newId()];
  await db('users').insert(users.map((id, i) => ({ id, username: `u${i}`, email: `u${i}@example.com`, create_at: base, update_at: base })));
  const team = newId();
  await db('teams').insert({ id: team, name: 'crash', display_name: 'Crash', type: 'O', invite_id: newId(), create_at: base, update_at: base });
  const channels = [newId(), newId(), newId()];
  await db('channels').insert(channels.map((id, i) => ({ id, team_id: team, name: `c${i}`, display_name: `C${i}`, type: 'O', create_at: base, update_at: base })));
  await db('channel_member_history').insert(channels.flatMap((c) => users.map((u) => ({ channel_id: c, user_id: u, join_time: base }))));
  const rows = [];
  for (let i = 0; i < posts; i++) {
    const t = base + 1000 + Math.floor(i / 3) * 10;
    rows.push({ id: newId(), create_at: t, update_at: t, user_id: users[i % 3], channel_id: channels[i % 3], message: `message ${i}` });
  }
  await db('posts').insert(rows);
  for (const [n, row] of rows.entries()) {
    if (n % 7 === 3) {
      const at = row.update_at + 1_000_000 + n;
      await db('post_versions').insert({ post_id: row.id, reason: 'edit', message: row.message, props: '{}', file_ids: '[]', is_pinned: false, version_create_at: row.create_at, replaced_at: at, replaced_by: row.user_id });
      await db('posts').where({ id: row.id }).update({ message: `${row.message} (edited)`, edit_at: at, update_at: at });
    } else if (n % 11 === 5) {
      const at = row.update_at + 2_000_000;
      await db('posts').where({ id: row.id }).update({ delete_at: at, update_at: at });
    }
  }
}

describe('compliance export survives kill -9 of its worker', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Knex;
  let dataDir: string;
  const children: ChildProcess[] = [];

  before(async () => {
    database = await createTestDatabase();
    db = createKnex(database.owner, 2, 'crash-test');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-crash-'));
    await seed(db, 150);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await db?.destroy();
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function startWorker() {
    const owner = database.owner;
    const url = `postgres://${owner.user}:${encodeURIComponent(owner.password)}@localhost/${owner.database}?host=${encodeURIComponent(owner.host)}&port=${owner.port}`;
    const port = await freePort();
    const { child } = await startServerProcess({
      DATABASE_URL: url, CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_JOB_ROLE: 'worker', CUSTODIAN_JOB_LEASE_SECONDS: '2',
      CUSTODIAN_EXPORT_BATCH_SIZE: '7', CUSTODIAN_EXPORT_STEP_DELAY_MS: '120', CUSTODIAN_LOG_LEVEL: 'warn', CUSTODIAN_NODE_ID: `worker-${children.length + 1}`,
    }, port);
    children.push(child);
    return child;
  }

  const committed = async (jobId: string) => Number((await db('compliance_export_batches').where({ job_id: jobId }).count('* as n'))[0].n);

  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  }

  it('resumes on another worker after the lease expires; every post update is exported exactly once', async function () {
    this.timeout(120_000);
    const jobId = newId();
    await db('jobs').insert({ id: jobId, type: 'message_export', status: 'pending', create_at: Date.now(), data: JSON.stringify({ format: 'jsonl', incremental: true }) });
    await db.raw("SELECT pg_notify('custodian_jobs', 'message_export')");

    // Two workers die mid-batch, each after committing at least one more batch; a third finishes.
    for (const killAfter of [2, 5]) {
      const worker = await startWorker();
      await waitFor(`batch ${killAfter}`, async () => (await committed(jobId)) >= killAfter);
      await sleep(50 + Math.floor(Math.random() * 250));
      worker.kill('SIGKILL');
      await exited(worker);
      const job = await db('jobs').where({ id: jobId }).first();
      expect(job.status, 'a killed worker leaves its job in progress').to.equal('in_progress');
    }
    const before = await committed(jobId);
    await startWorker();
    await waitFor('the job to finish', async () => ['success', 'warning', 'error'].includes((await db('jobs').where({ id: jobId }).first()).status), 60_000);
    const job = await db('jobs').where({ id: jobId }).first();
    expect(job.status).to.equal('success');
    expect(job.attempts, 'taken over twice').to.equal(3);
    expect(job.node_id, 'finished by the third worker').to.equal('worker-3');
    expect(await committed(jobId)).to.be.greaterThan(before);

    const batches = await db('compliance_export_batches').where({ job_id: jobId }).orderBy('seq');
    const exported: string[] = [];
    const versions: string[] = [];
    let previous: { update_at: number; post_id: string | null } = { update_at: -1, post_id: null };
    for (const [i, b] of batches.entries()) {
      expect(b.seq).to.equal(i + 1);
      expect({ update_at: Number(b.from_update_at), post_id: b.from_post_id }, `batch ${b.seq} starts where ${b.seq - 1} ended`).to.deep.equal(previous);
      previous = { update_at: Number(b.to_update_at), post_id: b.to_post_id };
      const file = path.join(dataDir, 'exports', b.file_key);
      const report = await verifyExportZip(file);
      expect(report.problems, `batch ${b.seq}`).to.deep.equal([]);
      for (const line of (await zipEntries(file)).get('export.jsonl')!.toString().trim().split('\n').filter(Boolean)) {
        const record = JSON.parse(line);
        if (record.type !== 'message') continue;
        if (record.source === 'post') exported.push(`${record.post_id}@${record.key.update_at}`);
        if (record.source === 'version') versions.push(record.post_id);
      }
    }
    expect(previous.post_id, 'the last batch reaches the end time').to.equal(null);
    const expected = (await db('posts').where('update_at', '<=', previous.update_at).select('id', 'update_at')).map((r) => `${r.id}@${r.update_at}`);
    expect(expected).to.have.length(150);
    expect(exported.length, 'no duplicates').to.equal(new Set(exported).size);
    expect([...exported].sort()).to.deep.equal([...expected].sort());
    const edited = (await db('post_versions').where({ reason: 'edit' }).select('post_id')).map((r) => r.post_id);
    expect([...versions].sort()).to.deep.equal([...edited].sort());
    // Nothing half-written is left behind.
    expect(fs.readdirSync(path.join(dataDir, 'exports', '.tmp'))).to.deep.equal([]);
  });
});
