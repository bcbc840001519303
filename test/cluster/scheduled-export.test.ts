import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { messageExportJob } from '../../compliance/index.ts';
import { JobScheduler } from '../../retention-jobs/index.ts';
import { jobTypes } from '../../server/job-types.ts';
import { bootApp, bootSecondNode, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser } from '../support/factories.ts';
import { zipEntries } from '../compliance/fixture.ts';

function zipsUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile() && e.name.endsWith('.zip')).map((e) => path.join(e.parentPath, e.name));
}

describe('two nodes on one PostgreSQL: a scheduled export', function () {
  this.timeout(60_000);
  const exportEnv = { CUSTODIAN_EXPORT_ENABLED: 'true', CUSTODIAN_EXPORT_FORMAT: 'jsonl', CUSTODIAN_JOB_ROLE: 'all', CUSTODIAN_JOB_LEASE_SECONDS: '5' };
  let nodeA: TestApp;
  let nodeB: Awaited<ReturnType<typeof bootSecondNode>>;
  const postIds: string[] = [];

  before(async () => {
    nodeA = await bootApp({ CUSTODIAN_NODE_ID: 'node-1', ...exportEnv });
    nodeB = await bootSecondNode(nodeA, { CUSTODIAN_NODE_ID: 'node-2', ...exportEnv });
    const alice = await makeUser(nodeA);
    const team = await makeTeam(nodeA.ownerDb, { members: [alice.user] });
    const channel = await makeChannel(nodeA.ownerDb, team.id, { members: [alice.user] });
    for (let i = 0; i < 5; i++) {
      const node = i % 2 ? nodeB : nodeA;
      const res = await request(node, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: channel.id, message: `for the archive ${i}` } });
      expect(res.status).to.equal(201);
      postIds.push(res.json.id);
    }
    // An export stops a second short of its start (posts still committing are left to the next run).
    await new Promise((r) => setTimeout(r, 1200));
  });
  after(async () => {
    await nodeB?.close();
    await nodeA?.close();
  });

  it('is created once when both nodes\' schedulers find it due, runs once, and exports every post once', async () => {
    const db = nodeA.ownerDb;
    const schedule = await db('job_schedules').where({ type: messageExportJob.type }).first();
    expect(schedule, 'the export schedule is persisted by the nodes').to.not.equal(undefined);
    await db('job_schedules').where({ type: messageExportJob.type }).update({ next_run_at: Date.now() - 1000 });

    // Each node's scheduler, on its own connection pool, races for the due run.
    const schedulers = [new JobScheduler(nodeA.services, jobTypes.values()), new JobScheduler(nodeB.services, jobTypes.values())];
    const created = (await Promise.all(schedulers.map((s) => s.tick()))).flat();
    expect(created, 'one run created across both nodes').to.have.length(1);

    // Both nodes run workers; one of them claims and finishes the job.
    const deadline = Date.now() + 30_000;
    let job = await db('jobs').where({ id: created[0] }).first();
    while (!['success', 'error', 'canceled', 'warning'].includes(job.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      job = await db('jobs').where({ id: created[0] }).first();
    }
    expect(job.status, JSON.stringify(job.data)).to.equal('success');
    expect(await db('jobs').where({ type: messageExportJob.type }).count('* as n').first()).to.deep.equal({ n: 1 });

    const exported = new Map<string, number>();
    for (const zip of [...zipsUnder(path.join(nodeA.services.config.dataDir, 'exports')), ...zipsUnder(path.join(nodeB.services.config.dataDir, 'exports'))]) {
      const jsonl = (await zipEntries(zip)).get('export.jsonl')?.toString('utf8') ?? '';
      for (const line of jsonl.split('\n').filter(Boolean)) {
        const record = JSON.parse(line) as { post_id?: string };
        if (record.post_id) exported.set(record.post_id, (exported.get(record.post_id) ?? 0) + 1);
      }
    }
    for (const id of postIds) expect(exported.get(id), `post ${id}`).to.equal(1);
    const next = await db('job_schedules').where({ type: messageExportJob.type }).first();
    expect(Number(next.next_run_at)).to.be.greaterThan(Date.now());
  });
});
