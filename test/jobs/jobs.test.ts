import { expect } from 'chai';
import { JobScheduler, JobWorker, parseSchedule, type JobTypeDefinition } from '../../retention-jobs/index.ts';
import { claimJob, insertJob, LeaseLostError, renewLease } from '../../retention-jobs/store.ts';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeUser, type TestUser } from '../support/factories.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let slowAttempts = 0;

describe('schedules: daily HH:MM and cron, in UTC', () => {
  const at = (iso: string) => Date.parse(iso);
  const next = (spec: string, from: string) => new Date(parseSchedule(spec).next(at(from))).toISOString();

  it('runs a daily schedule at its time, tomorrow once today\'s has passed', () => {
    expect(next('daily 01:00', '2026-11-22T00:59:59.000Z')).to.equal('2026-11-22T01:00:00.000Z');
    expect(next('daily 01:00', '2026-11-22T01:00:00.000Z')).to.equal('2026-11-23T01:00:00.000Z');
  });

  it('reads cron steps, ranges, lists and Vixie day-of-month/day-of-week OR', () => {
    expect(next('*/15 * * * *', '2026-11-22T10:07:30.000Z')).to.equal('2026-11-22T10:15:00.000Z');
    expect(next('0 9-17/4 * * 1-5', '2026-11-21T18:00:00.000Z')).to.equal('2026-11-23T09:00:00.000Z'); // Saturday → Monday
    expect(next('30 2 1 * 0', '2026-11-23T00:00:00.000Z')).to.equal('2026-11-29T02:30:00.000Z'); // a Sunday before the 1st
    expect(next('0 0 29 2 *', '2026-03-01T00:00:00.000Z')).to.equal('2028-02-29T00:00:00.000Z');
    expect(next('0 12 * * 7', '2026-11-22T12:00:00.000Z')).to.equal('2026-11-29T12:00:00.000Z');
  });

  it('refuses schedules it cannot read or that never run', () => {
    expect(() => parseSchedule('61 * * * *')).to.throw(/minute field/);
    expect(() => parseSchedule('daily 25:00')).to.throw();
    expect(() => parseSchedule('0 0 30 2 *').next(Date.now())).to.throw(/never runs/);
  });
});

describe('jobs: claiming, leases, cancel, scheduler and the /jobs API', () => {
  let app: TestApp;
  let officer: TestUser;
  let user: TestUser;
  let admin: TestUser;

  before(async () => {
    // No job roles in the app itself: these tests drive workers and schedulers explicitly.
    app = await bootApp({ CUSTODIAN_JOB_ROLE: 'none' });
    officer = await makeUser(app, { roles: 'system_user compliance_officer' });
    user = await makeUser(app);
    admin = await makeUser(app, { roles: 'system_user system_admin' });
  });
  after(async () => app.close());

  afterEach(async () => {
    await app.ownerDb('compliance_export_batches').delete();
    await app.ownerDb('jobs').delete();
    await app.ownerDb('job_schedules').delete();
  });

  describe('the /jobs API', () => {
    it('creates, lists, reads and cancels a message export job through Client4', async () => {
      const client = client4(app, officer.token);
      const job = await client.createJob({ type: 'message_export', data: { format: 'csv' } } as never);
      expect(job).to.include({ type: 'message_export', status: 'pending', progress: 0 });
      expect(job.data).to.include({ format: 'csv', incremental: 'true', trigger: 'api' });
      expect(job.id).to.match(/^[a-z0-9]{26}$/);
      expect((await client.getJob(job.id)).id).to.equal(job.id);
      expect((await client.getJobsByType('message_export')).map((j) => j.id)).to.deep.equal([job.id]);
      expect((await client.getJobs()).map((j) => j.id)).to.deep.equal([job.id]);
      await client.cancelJob(job.id);
      expect((await client.getJob(job.id)).status).to.equal('canceled');
      const again = await request(app, 'POST', `/api/v4/jobs/${job.id}/cancel`, { token: officer.token });
      expect(again.status).to.equal(409);
    });

    it('answers 401 without a session', async () => {
      for (const [method, path] of [['GET', '/api/v4/jobs'], ['POST', '/api/v4/jobs'], ['GET', `/api/v4/jobs/${newId()}`], ['GET', `/api/v4/jobs/${newId()}/download`]]) {
        expect((await request(app, method, path, method === 'POST' ? { body: {} } : {})).status, `${method} ${path}`).to.equal(401);
      }
    });

    it('answers 400 for an unknown type, a bad format or a malformed id', async () => {
      const client = client4(app, officer.token);
      expect(await statusOf(() => client.createJob({ type: 'no_such_job' } as never))).to.equal(400);
      expect(await statusOf(() => client.createJob({ type: 'message_export', data: { format: 'pdf' } } as never))).to.equal(400);
      expect(await statusOf(() => client.createJob({ type: 'message_export', data: { from: 'yesterday-ish' } } as never))).to.equal(400);
      expect((await request(app, 'GET', '/api/v4/jobs/not-an-id', { token: officer.token })).status).to.equal(400);
    });

    it('answers 403 to users without the compliance permissions, and hides their jobs', async () => {
      const job = await client4(app, officer.token).createJob({ type: 'message_export' } as never);
      const plain = client4(app, user.token);
      expect(await statusOf(() => plain.createJob({ type: 'message_export' } as never))).to.equal(403);
      expect(await statusOf(() => plain.getJobs())).to.equal(403);
      expect(await statusOf(() => plain.getJob(job.id))).to.equal(404);
      expect(await statusOf(() => plain.cancelJob(job.id))).to.equal(404);
      expect((await request(app, 'GET', `/api/v4/jobs/${job.id}/download`, { token: user.token })).status).to.equal(404);
    });

    it('answers 404 for a job that does not exist, and for a download before any batch', async () => {
      const client = client4(app, admin.token);
      expect(await statusOf(() => client.getJob(newId()))).to.equal(404);
      const job = await client.createJob({ type: 'message_export' } as never);
      expect((await request(app, 'GET', `/api/v4/jobs/${job.id}/download`, { token: admin.token })).status).to.equal(404);
    });
  });

  describe('claiming and leases', () => {
    it('runs at most one job of a type at a time, across claimers', async () => {
      const first = await insertJob(app.ownerDb, { type: 'message_export' });
      await insertJob(app.ownerDb, { type: 'message_export' });
      const other = await insertJob(app.ownerDb, { type: 'compliance_report' });
      const claims = await Promise.all([1, 2, 3].map(() => claimJob(app.services.db, { types: ['message_export'], nodeId: 'n', leaseMs: 60_000 })));
      expect(claims.filter(Boolean).map((j) => j!.id)).to.deep.equal([first.id]);
      expect((await claimJob(app.services.db, { types: ['message_export', 'compliance_report'], nodeId: 'n', leaseMs: 60_000 }))?.id).to.equal(other.id);
    });

    it('lets another worker take over a job whose lease expired, and fences the old one out', async () => {
      const job = await insertJob(app.ownerDb, { type: 'message_export' });
      const a = (await claimJob(app.services.db, { types: ['message_export'], nodeId: 'a', leaseMs: 50 }))!;
      expect(await claimJob(app.services.db, { types: ['message_export'], nodeId: 'b', leaseMs: 60_000 })).to.equal(undefined);
      await sleep(80);
      const b = (await claimJob(app.services.db, { types: ['message_export'], nodeId: 'b', leaseMs: 60_000 }))!;
      expect(b).to.include({ id: job.id, status: 'in_progress', node_id: 'b', attempts: 2 });
      let error: unknown;
      await renewLease(app.services.db, job.id, a.lease_token!, 60_000).catch((err) => (error = err));
      expect(error).to.be.instanceOf(LeaseLostError);
    });

    it('stops a running job when it is canceled, and records how every job ended', async () => {
      const steps: string[] = [];
      const looping: JobTypeDefinition = {
        type: 'test_loop',
        permissions: { create: 'manage_system', read: 'manage_system' },
        async run(ctx) {
          while (true) {
            await ctx.checkpoint({ progress: 10, data: { step: String(steps.push('step')) } });
            await sleep(20);
          }
        },
      };
      const failing: JobTypeDefinition = { type: 'test_fail', permissions: { create: 'manage_system', read: 'manage_system' }, run: async () => Promise.reject(new Error('disk full')) };
      const ok: JobTypeDefinition = { type: 'test_ok', permissions: { create: 'manage_system', read: 'manage_system' }, run: async () => ({ status: 'warning', data: { note: 'one file missing' } }) };
      const worker = new JobWorker(app.services, [looping, failing, ok], { leaseMs: 2000, pollMs: 50, concurrency: 3 });
      const loopJob = await insertJob(app.ownerDb, { type: 'test_loop' });
      const failJob = await insertJob(app.ownerDb, { type: 'test_fail' });
      const okJob = await insertJob(app.ownerDb, { type: 'test_ok' });
      worker.start();
      try {
        const status = async (id: string) => (await app.ownerDb('jobs').where({ id }).first()).status;
        while (steps.length < 3) await sleep(10);
        await app.ownerDb('jobs').where({ id: loopJob.id }).update({ status: 'cancel_requested' });
        const deadline = Date.now() + 5000;
        while ((await status(loopJob.id)) !== 'canceled' && Date.now() < deadline) await sleep(20);
        expect(await status(loopJob.id)).to.equal('canceled');
        const failed = await app.ownerDb('jobs').where({ id: failJob.id }).first();
        expect(failed.status).to.equal('error');
        expect(failed.data.error).to.equal('disk full');
        const warned = await app.ownerDb('jobs').where({ id: okJob.id }).first();
        expect(warned).to.include({ status: 'warning', progress: 100 });
        expect(warned.data.note).to.equal('one file missing');
      } finally {
        await worker.stop();
      }
    });

    it('gives a running job back at shutdown so another worker resumes it at once', async function () {
      // Seen timing out once in a full-suite run on a loaded machine, never alone: retried, and a
      // failure now says where it stood.
      this.retries(1);
      let started = 0;
      const type = `test_slow_${++slowAttempts}`;
      const slow: JobTypeDefinition = {
        type,
        permissions: { create: 'manage_system', read: 'manage_system' },
        async run(ctx) {
          started++;
          await new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
          return { status: 'success' };
        },
      };
      const job = await insertJob(app.ownerDb, { type });
      const worker = new JobWorker(app.services, [slow], { leaseMs: 60_000, pollMs: 50 });
      worker.start();
      const deadline = Date.now() + 15_000;
      while (started === 0) {
        if (Date.now() > deadline) {
          const row = await app.ownerDb('jobs').where({ id: job.id }).first();
          await worker.stop();
          throw new Error(`the worker did not start the job within 15 s: ${JSON.stringify(row)}`);
        }
        await sleep(10);
      }
      await worker.stop();
      const row = await app.ownerDb('jobs').where({ id: job.id }).first();
      expect(row).to.include({ status: 'in_progress', lease_token: null, lease_expires_at: 0 });
      expect((await claimJob(app.services.db, { types: [type], nodeId: 'next', leaseMs: 1000 }))?.id).to.equal(job.id);
    });
  });

  describe('the scheduler', () => {
    const daily: JobTypeDefinition = {
      type: 'test_daily',
      permissions: { create: 'manage_system', read: 'manage_system' },
      schedule: () => 'daily 01:00',
      prepare: () => ({ source: 'test' }),
      run: async () => ({ status: 'success' }),
    };

    it('keeps its next run in the database across restarts, and several schedulers create a due run once', async () => {
      const a = new JobScheduler(app.services, [daily]);
      await a.syncSchedules();
      const row = await app.ownerDb('job_schedules').where({ type: 'test_daily' }).first();
      expect(row.spec).to.equal('daily 01:00');
      expect(new Date(Number(row.next_run_at)).toISOString()).to.match(/T01:00:00\.000Z$/);
      // A restart (a new scheduler) does not move the next run.
      await new JobScheduler(app.services, [daily]).syncSchedules();
      expect(Number((await app.ownerDb('job_schedules').where({ type: 'test_daily' }).first()).next_run_at)).to.equal(Number(row.next_run_at));

      await app.ownerDb('job_schedules').where({ type: 'test_daily' }).update({ next_run_at: Date.now() - 1000 });
      const schedulers = [a, new JobScheduler(app.services, [daily]), new JobScheduler(app.services, [daily])];
      const created = (await Promise.all(schedulers.map((s) => s.tick()))).flat();
      expect(created).to.have.length(1);
      const jobs = await app.ownerDb('jobs').where({ type: 'test_daily' });
      expect(jobs).to.have.length(1);
      expect(jobs[0].data).to.deep.equal({ source: 'test', trigger: 'schedule' });
      const after = await app.ownerDb('job_schedules').where({ type: 'test_daily' }).first();
      expect(Number(after.next_run_at)).to.be.greaterThan(Date.now());
      expect(after.last_job_id).to.equal(jobs[0].id);
    });

    it('skips a run while the previous one is still pending, and reschedules when the configuration changes', async () => {
      const s = new JobScheduler(app.services, [daily]);
      await s.syncSchedules();
      await insertJob(app.ownerDb, { type: 'test_daily' });
      await app.ownerDb('job_schedules').where({ type: 'test_daily' }).update({ next_run_at: Date.now() - 1000 });
      expect(await s.tick()).to.deep.equal([]);
      expect(await app.ownerDb('jobs').where({ type: 'test_daily' })).to.have.length(1);
      const hourly = { ...daily, schedule: () => '0 * * * *' };
      await new JobScheduler(app.services, [hourly]).syncSchedules();
      const row = await app.ownerDb('job_schedules').where({ type: 'test_daily' }).first();
      expect(row.spec).to.equal('cron 0 * * * *');
      expect(Number(row.next_run_at) - Date.now()).to.be.within(0, 3600_000);
    });
  });
});
