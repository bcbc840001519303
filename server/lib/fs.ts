import fs from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` built from single-level mkdirs. Node's recursive mkdir spins forever on some virtual file
 * systems (e.g. under /proc), which would hang boot instead of reporting an unwritable data dir.
 */
export function ensureDir(dir: string, mode = 0o755): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
