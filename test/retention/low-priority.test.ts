import { expect } from 'chai';
import { SCHED, schedulingOf } from '../../bench/lib/procstat.ts';
import { openPurgeConnection } from '../../retention-jobs/retention/low-priority.ts';
import { chrtAvailable } from '../../server/db/batch-scheduling.ts';
import { bootApp, type TestApp } from '../support/app.ts';

const niceOf = (pid: number) => schedulingOf(`/proc/${pid}`)!.nice;

async function backendPid(db: { raw(sql: string): Promise<{ rows: { pid: number }[] }> }): Promise<number> {
  return Number((await db.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid);
}

describe('retention purge connection', () => {
  let app: TestApp;
  before(async () => {
    app = await bootApp({ CUSTODIAN_RETENTION_DAILY_TIME: 'off' });
  });
  after(async () => app?.close());

  it('runs its local PostgreSQL backend at the lowest CPU priority, and never lends it to requests', async function () {
    if (process.platform !== 'linux') this.skip();
    const connection = openPurgeConnection(app.services.db, app.services.logger);
    try {
      const purgePid = await backendPid(connection.db);
      expect(niceOf(purgePid)).to.equal(19);
      expect(connection.lowPriority()).to.equal(true);
      // SCHED_IDLE: a live query's backend (SCHED_BATCH, which never preempts on wake-up) still takes the CPU from it at once.
      if (chrtAvailable()) expect(schedulingOf(`/proc/${purgePid}`)!.policy).to.equal(SCHED.IDLE);
      // The request pool's backends keep their priority and policy.
      const requestPid = await backendPid(app.services.db);
      expect(niceOf(requestPid)).to.equal(0);
      if (chrtAvailable()) expect(schedulingOf(`/proc/${requestPid}`)!.policy).to.equal(SCHED.BATCH);
    } finally {
      await connection.close();
    }
  });
});
