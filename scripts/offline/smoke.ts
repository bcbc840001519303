// The offline release test, inside the network namespace (scripts/test-offline.ts starts it there):
// unpack the tarball, verify it, cold-start it, then exercise it as an operator and a user would:
// admin from the CLI, login, team, channel, posts, a file, WebSocket delivery, search, a compliance
// export, the audit log, an online backup, a restore into a fresh data directory, and an upgrade to a
// newer build on the same data directory. Features not built yet are reported as skipped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { api, checkSample, login, populate, type SiteSample } from '../../test/support/site.ts';
import { Checks, CriticalFailure } from './checks.ts';

const { values: args } = parseArgs({
  options: {
    tarball: { type: 'string' },
    'previous-tarball': { type: 'string' },
    work: { type: 'string' },
    results: { type: 'string' },
    'public-key': { type: 'string' },
    /** cold-start: only unpack, start and measure (run untraced); full: everything (the default). */
    phase: { type: 'string', default: 'full' },
  },
});
const tarball = path.resolve(args.tarball!);
const work = path.resolve(args.work!);
const checks = new Checks();
const PORT = 8065;
const base = `http://127.0.0.1:${PORT}`;
const password = 'offline-admin-passphrase';
// The cold-start target is a figure to report (like every performance target, it is measured, not
// asserted: a busy machine or a slow file system moves it), while a start that takes longer than the
// limit is a failure.
const COLD_START_TARGET_MS = 10_000;
const COLD_START_LIMIT_MS = 60_000;
const COLD_START_RUNS = 3;

interface Install {
  dir: string;
  bin: string;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every Custodian process: nothing from the test's own, no Node on the PATH. */
function envFor(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: work,
    LANG: 'C.UTF-8',
    CUSTODIAN_DATA_DIR: dataDir,
    CUSTODIAN_PORT: String(PORT),
    CUSTODIAN_LISTEN_ADDRESS: '127.0.0.1',
    CUSTODIAN_LOG_LEVEL: 'warn',
    CUSTODIAN_NODE_ID: 'offline-1',
  };
}

function cli(install: Install, cliArgs: string[], dataDir: string, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(install.bin, cliArgs, { env: envFor(dataDir), cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`custodian ${cliArgs.join(' ')} timed out`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function cliOk(install: Install, cliArgs: string[], dataDir: string): Promise<string> {
  const result = await cli(install, cliArgs, dataDir);
  if (result.code !== 0) throw new Error(`custodian ${cliArgs.join(' ')} exited with ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

interface Server {
  child: ChildProcess;
  ms: number;
  output: () => string;
}

/** Every server this run started, so none outlives it (strace waits for all of them). */
const servers = new Set<ChildProcess>();

async function httpPing(): Promise<boolean> {
  return (await fetch(`${base}/api/v4/system/ping`)).status === 200;
}

async function startServer(install: Install, dataDir: string, options: { env?: NodeJS.ProcessEnv; ping?: () => Promise<boolean>; timeoutMs?: number } = {}): Promise<Server> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ping = options.ping ?? httpPing;
  const started = Date.now();
  const child = spawn(install.bin, ['start'], { env: { ...envFor(dataDir), ...options.env }, cwd: work });
  servers.add(child);
  child.on('exit', () => servers.delete(child));
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  while (Date.now() - started < timeoutMs) {
    if (exited) throw new Error(`the server exited during start:\n${output}`);
    try {
      if (await ping()) return { child, ms: Date.now() - started, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`no ping within ${timeoutMs} ms:\n${output}`);
}

async function stopServer(server: Server): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  return exited;
}

function unpack(file: string, into: string): Install {
  fs.mkdirSync(into, { recursive: true, mode: 0o755 });
  const result = spawnSync('tar', ['-xzf', file, '-C', into], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tar failed: ${result.stderr}`);
  const [top] = fs.readdirSync(into);
  return { dir: path.join(into, top), bin: path.join(into, top, 'bin', 'custodian') };
}

async function hasCommand(install: Install, words: string, dataDir: string): Promise<boolean> {
  const help = await cli(install, ['help'], dataDir);
  return help.stdout.includes(`  ${words}`);
}

async function websocketDelivery(token: string, channelId: string): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${PORT}/api/v4/websocket`, { headers: { Authorization: `Bearer ${token}` } });
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  try {
    const waitFor = async (match: (f: Record<string, unknown>) => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        if (frames.some(match)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ${what} over the WebSocket within 5 s`);
    };
    await waitFor((f) => f.event === 'hello', 'hello');
    const sent = Date.now();
    const post = await api(base, 'POST', '/posts', { token, body: { channel_id: channelId, message: 'over the socket' } });
    if (post.status !== 201) throw new Error(`post failed: ${post.status}`);
    await waitFor((f) => f.event === 'posted' && JSON.parse((f.data as { post: string }).post).id === post.json.id, 'posted event');
    return `posted event ${Date.now() - sent} ms after the request`;
  } finally {
    ws.close();
  }
}

/**
 * Unpacks into a folder of its own, starts, measures the time to the first ping, stops, cleans up.
 * Three times, from scratch each time, keeping the best figure: a 2-core machine's other work makes
 * single measurements noisy. All are printed, with the load average before the first.
 */
async function coldStart(): Promise<void> {
  await checks.run(`cold start from a fresh unpack to a served ping (target ≤ ${COLD_START_TARGET_MS / 1000} s, best of ${COLD_START_RUNS})`, async () => {
    const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
    const runs: { unpackMs: number; startMs: number; total: number }[] = [];
    for (let attempt = 1; attempt <= COLD_START_RUNS; attempt++) {
      const folder = path.join(work, `cold-start-${attempt}`);
      const t = Date.now();
      const install = unpack(tarball, path.join(folder, 'install'));
      const unpackMs = Date.now() - t;
      const server = await startServer(install, path.join(folder, 'data'));
      runs.push({ unpackMs, startMs: server.ms, total: unpackMs + server.ms });
      const code = await stopServer(server);
      fs.rmSync(folder, { recursive: true, force: true });
      if (code !== 0) throw new Error(`the server exited with ${code} on SIGTERM`);
    }
    const best = runs.reduce((a, b) => (b.total < a.total ? b : a));
    Object.assign(checks.figures, {
      cold_start_ms: best.total,
      cold_start_unpack_ms: best.unpackMs,
      cold_start_start_to_ping_ms: best.startMs,
      cold_start_runs_ms: runs.map((r) => `${r.unpackMs}+${r.startMs}`).join('/'),
      cold_start_load_average: load.replaceAll(' ', '/'),
    });
    checks.figures.cold_start_target_met = best.total <= COLD_START_TARGET_MS ? 'yes' : 'no';
    const verdict = best.total <= COLD_START_TARGET_MS ? 'target met' : `OVER the ${COLD_START_TARGET_MS / 1000} s target`;
    const detail = `${best.total} ms, ${verdict} (unpack ${best.unpackMs} + first start, initdb included, ${best.startMs}); runs: ${runs.map((r) => `${r.total} ms`).join(', ')}; load average ${load}`;
    if (best.total > COLD_START_LIMIT_MS) throw new Error(detail);
    return detail;
  });
}

async function main(): Promise<void> {
  if (args.phase === 'cold-start') return coldStart();
  const dataDir = path.join(work, 'data');
  let install!: Install;
  let server: Server | undefined;
  let sample!: SiteSample;
  let token = '';
  let auditCli = false;

  await checks.run('the network namespace has only a loopback interface', async () => {
    const interfaces = fs.readdirSync('/sys/class/net');
    if (interfaces.join(',') !== 'lo') throw new Error(`interfaces: ${interfaces.join(', ')}`);
    return 'lo';
  }, { critical: true });

  let unpackMs = 0;
  await checks.run('unpack the tarball', async () => {
    const t = Date.now();
    install = unpack(tarball, path.join(work, 'install'));
    unpackMs = Date.now() - t;
    checks.figures.unpack_ms = unpackMs;
    return `${path.basename(install.dir)} in ${unpackMs} ms`;
  }, { critical: true });

  await checks.run('verify-install: signature over SHA256SUMS and every file', async () => {
    const out = await cliOk(install, ['verify-install', ...(args['public-key'] ? ['--public-key', args['public-key']] : [])], dataDir);
    if (!/Installation verified\./.test(out)) throw new Error(out);
    return out.split('\n').find((l) => l.startsWith('Files:'));
  });

  await checks.run('first start of the fresh unpack serves ping', async () => {
    server = await startServer(install, dataDir);
    checks.figures.traced_start_to_ping_ms = server.ms;
    return `${server.ms} ms after unpacking in ${unpackMs} ms (under strace; the untraced figure is the cold-start check)`;
  }, { critical: true });

  await checks.run('the web app is served at /', async (check) => {
    const build = JSON.parse(fs.readFileSync(path.join(install.dir, 'BUILD.json'), 'utf8')) as { webapp: boolean };
    if (!build.webapp) check.skip('the tarball was built without the web app');
    const res = await fetch(`${base}/`);
    const html = await res.text();
    if (res.status !== 200 || !/<script[^>]+src="\/assets\//.test(html)) throw new Error(`${res.status} ${html.slice(0, 200)}`);
    const asset = /src="(\/assets\/[^"]+)"/.exec(html)![1];
    const js = await fetch(`${base}${asset}`);
    if (js.status !== 200) throw new Error(`${asset}: ${js.status}`);
    return `index.html and ${asset}`;
  });

  await checks.run('the bundled runtime serves the compiled build (no TypeScript at run time)', async () => {
    const res = await fetch(`${base}/api/v4/system/ping?get_server_status=true`);
    const ping = (await res.json()) as Record<string, unknown>;
    if (ping.status !== 'OK') throw new Error(JSON.stringify(ping));
    const ts = fs.readdirSync(path.join(install.dir, 'server', 'cli')).filter((f) => f.endsWith('.ts'));
    if (ts.length) throw new Error(`TypeScript sources shipped: ${ts.join(', ')}`);
    if (fs.existsSync(path.join(install.dir, 'node_modules', 'typescript'))) throw new Error('typescript is installed');
    return `ping OK, node ${fs.existsSync(path.join(install.dir, 'runtime', 'bin', 'node')) ? 'runtime/bin/node' : 'missing'}`;
  });

  await checks.run('custodian version and migrate --status', async () => {
    const version = await cliOk(install, ['version'], dataDir);
    if (!/^Build: release /m.test(version)) throw new Error(version);
    const status = await cliOk(install, ['migrate', '--status'], dataDir);
    if (!/, 0 pending/.test(status)) throw new Error(status);
    return `${version.split('\n')[0]}; ${status.trim().split('\n').at(-1)}`;
  });

  await checks.run('custodian user create --system-admin, then login', async () => {
    await cliOk(install, ['user', 'create', '--email', 'admin@example.com', '--username', 'admin', '--password', password, '--system-admin'], dataDir);
    token = await login(base, 'admin', password);
    return 'admin logged in';
  }, { critical: true });

  await checks.run('create a team and a channel, post (with a reply and a file)', async () => {
    sample = await populate(base, token, 'offline');
    return `${sample.postIds.length} posts, 1 file`;
  }, { critical: true });

  await checks.run('WebSocket: a new post reaches a connected client', () => websocketDelivery(token, sample.channelId));

  await checks.run('search the posts', async (check) => {
    const res = await api(base, 'POST', `/teams/${sample.teamId}/posts/search`, { token, body: { terms: 'ledger', is_or_search: false } });
    if (res.status === 404 && res.json?.id === 'api.context.404.app_error') check.skip('POST /teams/{id}/posts/search is not built yet');
    if (res.status !== 200) throw new Error(`${res.status} ${res.body.toString().slice(0, 200)}`);
    const found = sample.postIds.filter((id) => res.json.order.includes(id));
    if (!found.includes(sample.postIds[0])) throw new Error(`"ledger" found ${JSON.stringify(res.json.order)}`);
    return `"ledger" → ${res.json.order.length} posts`;
  });

  await checks.run('run a compliance export (custodian export run)', async (check) => {
    if (!(await hasCommand(install, 'export run', dataDir))) check.skip('custodian export run is not built yet');
    const out = await cliOk(install, ['export', 'run', '--format', 'csv', '--from', '0'], dataDir);
    const zips: string[] = [];
    const walk = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (e.name.endsWith('.zip')) zips.push(path.join(d, e.name));
      }
    };
    walk(path.join(dataDir, 'exports'));
    if (zips.length && (await hasCommand(install, 'export verify', dataDir))) await cliOk(install, ['export', 'verify', zips[0]], dataDir);
    return `${out.trim().split('\n').at(-1)}; ${zips.length} batch zip(s)${zips.length ? ', first one verified' : ''}`;
  });

  await checks.run('verify the audit log (custodian audit verify)', async (check) => {
    auditCli = await hasCommand(install, 'audit verify', dataDir);
    if (!auditCli) check.skip('custodian audit verify is not built yet');
    const out = await cliOk(install, ['audit', 'verify'], dataDir);
    return out.trim().split('\n').slice(-1)[0];
  });

  const backupFile = path.join(work, 'backups', 'online.tar.gz');
  await checks.run('custodian backup while the server runs', async () => {
    const out = await cliOk(install, ['backup', '--out', backupFile], dataDir);
    checks.figures.backup_bytes = fs.statSync(backupFile).size;
    return out.trim().split('\n').find((l) => l.startsWith('Backup written'));
  }, { critical: true });

  await checks.run('clean shutdown on SIGTERM', async () => {
    const code = await stopServer(server!);
    server = undefined;
    if (code !== 0) throw new Error(`exit code ${code}`);
    return 'exit 0';
  }, { critical: true });

  const restoredDir = path.join(work, 'restored');
  await checks.run('custodian restore into a fresh data directory', async () => {
    const out = await cliOk(install, ['restore', '--from', backupFile], restoredDir);
    return out.trim().split('\n').at(-1);
  }, { critical: true });

  await checks.run('the restored site serves the same users, posts and files', async () => {
    const restored = await startServer(install, restoredDir);
    try {
      await checkSample(base, await login(base, 'admin', password), sample);
      if (auditCli) await cliOk(install, ['audit', 'verify'], restoredDir);
    } finally {
      await stopServer(restored);
    }
    return auditCli ? 'sample intact, audit chain verifies' : 'sample intact';
  });

  await checks.run('HTTPS with a self-signed certificate generated at first start (CUSTODIAN_TLS=self-signed)', async () => {
    const certFile = path.join(restoredDir, 'keys', 'tls.crt');
    const httpsPing = () =>
      new Promise<boolean>((resolve) => {
        if (!fs.existsSync(certFile)) return resolve(false);
        const req = https.get(`https://127.0.0.1:${PORT}/api/v4/system/ping`, { ca: fs.readFileSync(certFile), agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
      });
    const tls = await startServer(install, restoredDir, { env: { CUSTODIAN_TLS: 'self-signed' }, ping: httpsPing });
    try {
      const fingerprint = new crypto.X509Certificate(fs.readFileSync(certFile)).fingerprint256;
      return `https ping answered, certificate SHA-256 ${fingerprint.slice(0, 23)}…`;
    } finally {
      await stopServer(tls);
    }
  });

  await checks.run('upgrade: a newer build on the same data directory migrates it and keeps the data', async () => {
    const newer = makeNewerBuild(install);
    const upgraded = await startServer(newer, dataDir);
    try {
      const version = await cliOk(newer, ['version'], dataDir);
      if (!version.includes('-upgrade-test')) throw new Error(`version after the upgrade: ${version}`);
      const status = await cliOk(newer, ['migrate', '--status'], dataDir);
      if (!/applied\s+29991231235959_upgrade_probe/.test(status) || !/, 0 pending/.test(status)) throw new Error(status);
      await checkSample(base, await login(base, 'admin', password), sample);
      return `${version.split('\n')[0]}; ${status.trim().split('\n').at(-1)}`;
    } finally {
      await stopServer(upgraded);
    }
  });

  if (args['previous-tarball']) {
    await checks.run('upgrade from the previous release tarball', async () => {
      const previous = unpack(path.resolve(args['previous-tarball']!), path.join(work, 'previous'));
      const oldData = path.join(work, 'previous-data');
      const old = await startServer(previous, oldData);
      let oldSample: SiteSample;
      try {
        await cliOk(previous, ['user', 'create', '--email', 'old@example.com', '--username', 'admin', '--password', password, '--system-admin'], oldData);
        oldSample = await populate(base, await login(base, 'admin', password), 'previous');
      } finally {
        await stopServer(old);
      }
      const current = await startServer(install, oldData);
      try {
        await checkSample(base, await login(base, 'admin', password), oldSample);
        const status = await cliOk(install, ['migrate', '--status'], oldData);
        if (!/, 0 pending/.test(status)) throw new Error(status);
        return `${path.basename(previous.dir)} → ${path.basename(install.dir)}; ${status.trim().split('\n').at(-1)}`;
      } finally {
        await stopServer(current);
      }
    });
  }
}

/**
 * A newer release made from the unpacked one: a bumped version and one more migration, the way the
 * next tarball will differ. Its SHA256SUMS no longer match, which is fine: it is never verified.
 */
function makeNewerBuild(from: Install): Install {
  const dir = path.join(work, 'install-newer', path.basename(from.dir).replace(/-linux-x64$/, '-upgrade-test-linux-x64'));
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  fs.cpSync(from.dir, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const pkgFile = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { version: string };
  pkg.version = `${pkg.version}-upgrade-test`;
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
  fs.writeFileSync(
    path.join(dir, 'migrations', '29991231235959_upgrade_probe.js'),
    `// Added by the offline upgrade test.
export async function up(knex) {
  await knex.schema.createTable('upgrade_probe', (t) => { t.string('id').primary(); });
  await knex('upgrade_probe').insert({ id: 'migrated' });
}
export async function down(knex) {
  await knex.schema.dropTable('upgrade_probe');
}
`,
  );
  return { dir, bin: path.join(dir, 'bin', 'custodian') };
}

try {
  await main();
} catch (err) {
  if (!(err instanceof CriticalFailure)) checks.add({ name: 'offline smoke test', status: 'failed', detail: (err as Error).stack ?? String(err), ms: 0 });
  else process.stdout.write(`  ${err.message}\n`);
} finally {
  for (const child of servers) child.kill('SIGTERM');
  const deadline = Date.now() + 30_000;
  while (servers.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const child of servers) child.kill('SIGKILL');
  if (args.results) checks.save(args.results);
}
process.exit(0);
