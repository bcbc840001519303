import fs from 'node:fs';

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `fn` while holding `lockFile` (created with O_EXCL), so processes sharing a folder — replicas on
 * one shared volume starting together — generate a file set once instead of overwriting each other
 * (a key from one and a certificate from another). A lock older than `staleMs` belongs to a process
 * that died holding it and is taken over. Synchronous: it runs at start, before anything is served.
 */
export function withFileLock<T>(lockFile: string, fn: () => T, options: { staleMs?: number; timeoutMs?: number } = {}): T {
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = lockAge(lockFile);
    if (age !== undefined && age > staleMs) {
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${lockFile} is held by another process; remove it if no other Custodian process is starting`);
    pause(25);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

function lockAge(lockFile: string): number | undefined {
  try {
    return Date.now() - fs.statSync(lockFile).mtimeMs;
  } catch {
    return undefined;
  }
}
