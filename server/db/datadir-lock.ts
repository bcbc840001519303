import fs from 'node:fs';
import path from 'node:path';
import { processIsRunning } from '../lib/process.ts';

/** Raised when another live server holds the data directory. */
export class DataDirLockedError extends Error {
  readonly ownerPid: number;
  constructor(dataDir: string, ownerPid: number) {
    super(
      `Another Custodian server (pid ${ownerPid}) is already using the data directory ${dataDir}. ` +
        'Stop it first, or give this server its own CUSTODIAN_DATA_DIR.',
    );
    this.ownerPid = ownerPid;
  }
}

function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number(JSON.parse(fs.readFileSync(lockPath, 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** An exclusive, crash-tolerant claim on a data directory: a lock file naming the owning process. */
export class DataDirLock {
  readonly lockPath: string;
  private held = false;

  constructor(dataDir: string) {
    this.lockPath = path.join(dataDir, 'custodian.lock');
  }

  /**
   * Takes the lock. A lock left by a process that no longer runs (kill -9, power loss) is taken over;
   * one held by a live process raises DataDirLockedError.
   */
  acquire(): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(this.lockPath, 'wx', 0o600);
        fs.writeSync(fd, JSON.stringify({ pid: process.pid, started_at: new Date().toISOString() }));
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(this.lockPath);
      if (owner !== undefined && owner !== process.pid && processIsRunning(owner)) {
        throw new DataDirLockedError(path.dirname(this.lockPath), owner);
      }
      // The owner is gone: the lock is stale. Remove it and race for a fresh one.
      fs.rmSync(this.lockPath, { force: true });
    }
    throw new Error(`Could not take the data directory lock ${this.lockPath}`);
  }

  release(): void {
    if (!this.held) return;
    if (readOwner(this.lockPath) === process.pid) fs.rmSync(this.lockPath, { force: true });
    this.held = false;
  }
}
