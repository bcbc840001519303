// Builds the web app (vite build → webapp/dist) when the build is missing or older than its sources.
// `npm start` and `npm test` run this first, so a fresh clone works with the README's two commands.
// Without Vite (a production install without dev dependencies) it leaves the server to explain.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webapp = path.join(root, 'webapp');
const builtIndex = path.join(webapp, 'dist', 'index.html');
const inputs = [path.join(webapp, 'src'), path.join(webapp, 'index.html'), path.join(webapp, 'vite.config.ts'), path.join(root, 'package-lock.json')];

function newestMtime(entry: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** True when webapp/dist is missing or a source file changed after it was built. */
export function webappIsStale(): boolean {
  let built: number;
  try {
    built = fs.statSync(builtIndex).mtimeMs;
  } catch {
    return true;
  }
  return inputs.some((input) => newestMtime(input) > built);
}

/** Builds the web app when stale; returns what happened. Throws when the build itself fails. */
export function ensureWebapp(options: { quiet?: boolean } = {}): 'fresh' | 'built' | 'no-vite' | 'no-sources' {
  if (!fs.existsSync(path.join(webapp, 'src'))) return 'no-sources';
  if (!webappIsStale()) return 'fresh';
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!fs.existsSync(vite)) return 'no-vite';
  if (!options.quiet) process.stdout.write('building the web app (webapp/dist)…\n');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', path.join(webapp, 'vite.config.ts'), '--logLevel', options.quiet ? 'error' : 'warn'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status ?? result.signal})`);
  return 'built';
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const outcome = ensureWebapp();
    if (outcome === 'no-vite') process.stderr.write('webapp/dist is missing or stale and Vite is not installed (npm install): the server will say so at /\n');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
