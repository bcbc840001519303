import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';

// BENCH_SERVER_ROOT runs another checkout's server (e.g. the commit before a change) under the same
// benchmark code, so before and after are measured by one harness.
const root = process.env.BENCH_SERVER_ROOT ?? path.resolve(import.meta.dirname, '..', '..');

export interface BenchServer {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Owner (superuser) connection to the server's embedded database, for seeding and sizing. */
  owner(): pg.ClientConfig;
  rssMiB(): number;
  stop(): Promise<void>;
}

/**
 * Starts a real Custodian server process (embedded PostgreSQL, production durability settings) on a
 * scratch data directory, so the load generator in this process does not share its event loop.
 */
export async function startBenchServer(env: Record<string, string> = {}, prepare?: (dataDir: string) => void): Promise<BenchServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bench-'));
  prepare?.(dataDir);
  fs.chmodSync(dataDir, 0o755);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(path.join(root, 'bin', 'custodian'), ['start'], {
    env: { ...process.env, CUSTODIAN_DATA_DIR: dataDir, CUSTODIAN_PORT: String(port), CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1', CUSTODIAN_LOG_LEVEL: 'warn', CUSTODIAN_LOGIN_MAX_ATTEMPTS: '1000', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (true) {
    if (child.exitCode !== null) throw new Error('bench server exited during start');
    try {
      if ((await fetch(`${url}/api/v4/system/ping`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('bench server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    dataDir,
    child,
    owner: () => ({
      host: path.join(dataDir, 'run'),
      port: 5432,
      user: 'custodian_owner',
      password: fs.readFileSync(path.join(dataDir, 'secrets', 'db-owner-password'), 'utf8').trim(),
      database: 'custodian',
    }),
    rssMiB: () => {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
