import fs from 'node:fs';
import { expect } from 'chai';
import { openPurgeConnection } from '../../retention-jobs/retention/low-priority.ts';
import { bootApp, type TestApp } from '../support/app.ts';

/** The nice value of a process of this host (field 19 of /proc/<pid>/stat). */
function niceOf(pid: number): number {
  return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
}

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
      // The request pool's backends keep their priority.
      expect(niceOf(await backendPid(app.services.db))).to.equal(0);
    } finally {
      await connection.close();
    }
  });
});
