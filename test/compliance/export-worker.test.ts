import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { SCHED, schedulingOf, threadCpuTicks } from '../../bench/lib/procstat.ts';
import { chrtAvailable } from '../../server/db/batch-scheduling.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { client4 } from '../support/client.ts';
import { makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { batchesOf, seedPosts, waitForJob } from './fixture.ts';

/** The nice value the export's rendering thread runs at (compliance/export/export-worker.ts). */
const EXPORT_THREAD_NICE = 10;

/** The threads of this process, with their nice value, scheduling policy and CPU time so far (clock ticks), from /proc. */
function threads(): Map<number, { nice: number; policy: number; cpuTicks: number }> {
  const result = new Map<number, { nice: number; policy: number; cpuTicks: number }>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const scheduling = schedulingOf(`/proc/self/task/${tid}`);
    const cpuTicks = threadCpuTicks(`/proc/self/task/${tid}`);
    if (scheduling && cpuTicks !== undefined) result.set(Number(tid), { ...scheduling, cpuTicks });
  }
  return result;
}

const exportThreads = () => [...threads()].filter(([, t]) => t.nice === EXPORT_THREAD_NICE);

describe('compliance export renders its batches off the main thread', () => {
  let app: TestApp;
  let officer: TestUser;

  before(async function () {
    if (process.platform !== 'linux') this.skip();
    this.timeout(120_000);
    app = await bootApp({ CUSTODIAN_JOB_ROLE: 'all', CUSTODIAN_EXPORT_BATCH_SIZE: '5000' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    await seedPosts(app, 200, 20_000);
  });
  after(async () => app?.close());

  it('on a thread of lower priority than the API, which does most of its CPU work and ends with the job', async function () {
    this.timeout(120_000);
    expect(exportThreads()).to.deep.equal([]);
    // The CPU time each lower-priority thread had at its last sample while the job ran.
    const seen = new Map<number, number>();
    const policies = new Set<number>();
    const sampler = setInterval(() => {
      for (const [tid, t] of exportThreads()) {
        seen.set(tid, t.cpuTicks);
        policies.add(t.policy);
      }
    }, 50);
    const mainBefore = process.threadCpuUsage();
    try {
      const job = await client4(app, officer.token).createJob({ type: 'message_export', data: { format: 'actiance', from: '0' } } as never);
      expect((await waitForJob(app, officer.token, job.id, 100_000)).status).to.equal('success');
      // Four full batches, then the empty one up to the job's end time.
      expect(await batchesOf(app, job.id)).to.have.length(5);
    } finally {
      clearInterval(sampler);
    }
    const main = process.threadCpuUsage(mainBefore);
    const mainMs = (main.user + main.system) / 1000;
    const ticksPerSecond = 100; // USER_HZ on Linux
    const exportMs = ([...seen.values()].reduce((a, b) => a + b, 0) * 1000) / ticksPerSecond;
    expect(seen.size, 'a thread at nice 10 while the export ran').to.equal(1);
    // Where chrt exists, SCHED_IDLE: any API thread or backend that wakes up takes the CPU from it at once.
    if (chrtAvailable()) expect([...policies]).to.deep.equal([SCHED.IDLE]);
    // The main thread served the job's requests and commits meanwhile; the batches' bytes went through the other thread.
    expect(exportMs, `export thread ${exportMs} ms of CPU, main thread ${mainMs.toFixed(0)} ms`).to.be.greaterThan(mainMs);
    // No thread outlives its job (it would keep the process alive).
    expect(exportThreads()).to.deep.equal([]);
  });

  it('fails the job with the error the thread met, and ends the thread', async function () {
    this.timeout(60_000);
    // An attachment whose stored content became a folder: reading it fails (not a missing file, which is a warning).
    const alice = await makeUser(app, { username: 'alice' });
    const team = await makeTeam(app.ownerDb, { members: [alice.user] });
    const a = client4(app, alice.token);
    const channel = await a.createChannel({ team_id: team.id, name: 'files', display_name: 'Files', type: 'O' } as never);
    const form = new FormData();
    form.append('channel_id', channel.id);
    form.append('files', new Blob([Buffer.from('minutes\n')], { type: 'text/plain' }), 'minutes.txt');
    const fileId = (await a.uploadFile(form)).file_infos[0].id;
    await a.createPost({ channel_id: channel.id, message: 'Minutes attached', file_ids: [fileId] } as never);
    const stored = path.join(app.dataDir, 'files', (await app.ownerDb('file_infos').where({ id: fileId }).first()).path);
    fs.rmSync(stored);
    fs.mkdirSync(stored);
    // An export's end time trails the clock by a second (writes still committing).
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const job = await client4(app, officer.token).createJob({ type: 'message_export', data: { format: 'csv', from: String(Date.now() - 60_000) } } as never);
    const ended = await waitForJob(app, officer.token, job.id, 50_000);
    expect(ended.status).to.equal('error');
    expect(JSON.stringify(ended.data)).to.include('EISDIR');
    expect(exportThreads()).to.deep.equal([]);
  });
});
