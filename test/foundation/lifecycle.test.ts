import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { descendants, SCHED, schedulingOf } from '../../bench/lib/procstat.ts';
import { exited, freePort, runCli, startServerProcess } from '../support/cli.ts';

/** The processes named postgres below `root`, with their scheduling policy. */
function postgresProcessesUnder(root: number): { pid: number; policy: number }[] {
  const found: { pid: number; policy: number }[] = [];
  for (const pid of descendants(root)) {
    let name: string;
    try {
      name = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // exited meanwhile
    }
    const scheduling = name === 'postgres' ? schedulingOf(`/proc/${pid}`) : undefined;
    if (scheduling) found.push({ pid, policy: scheduling.policy });
  }
  return found;
}

describe('server lifecycle (real processes, embedded PostgreSQL)', function () {
  this.timeout(120_000);
  let dataDir: string;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-life-'));
    fs.chmodSync(dataDir, 0o755);
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  // A failed assertion must not leave its server holding the data dir for the next case.
  const started: { child: ChildProcess }[] = [];
  const start = async (env: Record<string, string>, port: number) => {
    const server = await startServerProcess(env, port);
    started.push(server);
    return server;
  };
  afterEach(async () => {
    for (const { child } of started.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('serves ping within 15 s of a first start and within 5 s of a restart', async () => {
    const port = await freePort();
    const env = { CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_LOG_LEVEL: 'warn' };
    const first = await start(env, port);
    expect(first.ms, 'first start').to.be.below(15_000);
    // PostgreSQL and every process it forks run under SCHED_BATCH, so a woken backend does not
    // take the CPU from the server's event loop in the middle of its turn.
    const postgres = postgresProcessesUnder(first.child.pid!);
    expect(postgres.length, 'postmaster and its helpers').to.be.greaterThan(2);
    expect(postgres.map((p) => p.policy), 'scheduling policy of each PostgreSQL process').to.deep.equal(postgres.map(() => SCHED.BATCH));
    first.child.kill('SIGTERM');
    expect(await exited(first.child), 'clean exit on SIGTERM').to.equal(0);
    const second = await start(env, port);
    expect(second.ms, 'restart').to.be.below(5_000);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).to.equal(0);
  });

  it('keeps data through kill -9 and restarts without manual cleanup', async () => {
    const port = await freePort();
    const env = { CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_LOG_LEVEL: 'warn' };
    const server = await start(env, port);
    const created = await runCli(['user', 'create', '--email', 'kept@example.com', '--username', 'kept', '--password', 'correct-horse-1'], env);
    expect(created.code, created.stderr).to.equal(0);
    server.child.kill('SIGKILL');
    await exited(server.child);
    const again = await start(env, port);
    expect(again.ms).to.be.below(10_000);
    const duplicate = await runCli(['user', 'create', '--email', 'kept@example.com', '--username', 'kept', '--password', 'correct-horse-1'], env);
    expect(duplicate.code, 'the user created before the crash is still there').to.not.equal(0);
    expect(duplicate.stderr).to.match(/already exists/);
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).to.equal(0);
  });

  it('refuses a second server on the same data directory and leaves the first serving', async () => {
    const env = { CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_LOG_LEVEL: 'warn' };
    const port = await freePort();
    const first = await start(env, port);
    const second = await runCli(['start'], { ...env, CUSTODIAN_PORT: String(await freePort()) });
    expect(second.code).to.not.equal(0);
    expect(second.stderr).to.match(/already using the data directory/);
    const ping = await fetch(`http://127.0.0.1:${port}/api/v4/system/ping`);
    expect(ping.status).to.equal(200);
    expect(await ping.json()).to.include({ status: 'OK' });
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).to.equal(0);
  });

  it('stops at boot with one line per configuration problem', async () => {
    const result = await runCli(['start'], {
      CUSTODIAN_PORT: 'eighty',
      DATABASE_URL: 'postgres://custodian:secret-pw@127.0.0.1:1/custodian',
      CUSTODIAN_DATA_DIR: '/proc/custodian-cannot-write-here',
      CUSTODIAN_LOG_LEVEL: 'loud',
    });
    expect(result.code).to.equal(78);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).to.have.length(4);
    expect(result.stderr).to.match(/CUSTODIAN_PORT: must be a whole number from 0 to 65535 \(got "eighty"\)/);
    expect(result.stderr).to.match(/CUSTODIAN_LOG_LEVEL: /);
    expect(result.stderr).to.match(/CUSTODIAN_DATA_DIR: \/proc\/custodian-cannot-write-here is not writable/);
    expect(result.stderr).to.match(/DATABASE_URL: cannot connect to 127\.0\.0\.1:1\/custodian \(ECONNREFUSED\)/);
    expect(result.stderr, 'the database password is never printed').to.not.include('secret-pw');
  });
});
