// Compliance export benchmark (issue: scheduled compliance export jobs). Run: npm run bench:export -- [--posts N] [--channels C] [--seconds S]
// Figures, per format (Actiance XML, CSV): wall time to export N posts across C channels (the
// `custodian export run` process, which claims and runs the job in-process), the peak RSS of that
// process, and GET /channels/{id}/posts latency (p99) idle and while the export runs: under a saturating wrk
// load, and under paced readers (users with think time) judged over exactly the export's run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { processTicks, sampleBackendCpu } from './lib/backend-cpu.ts';
import { analyseProfiles } from './lib/profile.ts';
import { seed } from './lib/seed.ts';
import { startBenchServer } from './lib/server.ts';
import { machine, since } from './lib/stats.ts';
import { pacedReadsFor, readStats, startPacedReads } from './lib/paced-reads.ts';
import { wrkAvailable, wrkGet } from './lib/wrk.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000000' },
    channels: { type: 'string', default: '1000' },
    members: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '4' },
    // Live users: connections that each read, then think (as bench:retention's readers), judged over exactly the export's run.
    'read-connections': { type: 'string', default: '20' },
    'read-delay-ms': { type: 'string', default: '50' },
    formats: { type: 'string', default: 'actiance,csv' },
    // Writes a V8 CPU profile of each export process to bench/results/profiles/ and summarises it.
    profile: { type: 'boolean', default: false },
    // Also run each export once more while the API is idle (no wrk), to separate export speed from contention.
    'quiet-run': { type: 'boolean', default: false },
    'max-minutes': { type: 'string', default: '45' },
  },
});
const posts = Number(values.posts);
const channels = Number(values.channels);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const root = path.resolve(import.meta.dirname, '..');

if (!wrkAvailable()) throw new Error('wrk is needed for the latency figures: apt-get install wrk');
// The API server runs no jobs: the export runs in its own process, as a worker node would.
const server = await startBenchServer({ CUSTODIAN_JOB_ROLE: 'none' });
// Finds the export's backend (by its application name) for its CPU time.
const monitor = new pg.Client(server.owner());
await monitor.connect();
const results: Record<string, unknown> = { machine: machine(), posts, channels, members_per_channel: Number(values.members), batch_size: 10_000 };

interface ExportRun {
  seconds: number;
  /** Wall-clock span of the export process (epoch ms). */
  from: number;
  to: number;
  peak_rss_mib: number;
  /** CPU seconds of the export process (Node) and of its batch connection's PostgreSQL backend. */
  node_cpu_seconds: number;
  backend_cpu_seconds: number;
  exit: number | null;
  output: string;
}

/** Runs `custodian export run` and samples its resident memory and CPU time until it exits. */
async function exportRun(format: string, profileDir?: string): Promise<ExportRun> {
  const started = performance.now();
  const from = Date.now();
  const backendCpu = sampleBackendCpu(monitor, 'custodian-export');
  const nodeOptions = profileDir ? `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}` : process.env.NODE_OPTIONS;
  const child = spawn(path.join(root, 'bin', 'custodian'), ['export', 'run', '--format', format, '--from', '0'], {
    env: { ...process.env, CUSTODIAN_DATA_DIR: server.dataDir, CUSTODIAN_LOG_LEVEL: 'warn', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  let peak = 0;
  let ticks = 0;
  const sample = () => {
    ticks = processTicks(child.pid!) ?? ticks;
    try {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 50);
  const exit = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearInterval(timer);
  const seconds = Math.round(since(started) / 100) / 10;
  return { seconds, from, to: Date.now(), peak_rss_mib: Math.round(peak), node_cpu_seconds: ticks / 100, backend_cpu_seconds: await backendCpu.stop(), exit, output };
}

/**
 * The floor: the same post rows, read in the export's key order and streamed out by PostgreSQL's own
 * COPY ... TO STDOUT into this process and dropped. An export cannot read its rows faster than this.
 */
async function rawCopySeconds(): Promise<number> {
  const client = new pg.Client(server.owner());
  await client.connect();
  try {
    const pid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const ticks = processTicks(pid) ?? 0;
    const started = performance.now();
    const stream = client.query(copyTo('COPY (SELECT p.* FROM posts p ORDER BY update_at, id) TO STDOUT'));
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    results.raw_copy_mib = Math.round(bytes / 2 ** 20);
    results.raw_copy_backend_cpu_seconds = ((processTicks(pid) ?? ticks) - ticks) / 100;
    return Math.round(since(started) / 100) / 10;
  } finally {
    await client.end();
  }
}

const deadline = setTimeout(() => {
  console.error('export benchmark: time bound reached, stopping');
  server.child.kill('SIGTERM'); // its embedded PostgreSQL stops with it
  process.exit(3);
}, Number(values['max-minutes'] ?? 45) * 60_000);
deadline.unref();

try {
  const t = performance.now();
  const seeded = await seed(server.owner(), { users: 100, channels, posts, membersPerChannel: Number(values.members) });
  results.seed_seconds = Math.round(since(t) / 100) / 10;
  console.log(`seeded ${posts} posts in ${results.seed_seconds} s`);
  // Exports read posts as of a second ago: let the seed settle.
  await new Promise((r) => setTimeout(r, 1500));

  const login = await fetch(`${server.url}/api/v4/users/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login_id: seeded.usernames[0], password: seeded.password }) });
  const auth = { Authorization: `Bearer ${login.headers.get('token')}` };
  const paths = seeded.channelIds.map((id) => `/api/v4/channels/${id}/posts?per_page=60`);
  await wrkGet(server.url, paths, auth, concurrency, 3); // warm-up
  const idle = await wrkGet(server.url, paths, auth, concurrency, seconds);
  results.get_posts_idle = idle;
  console.log('GET /channels/{id}/posts idle', idle);
  // The same load in the 5-second windows the export's live traffic is measured in: a worst window
  // of several is compared with the worst idle window, as well as with the one long idle run.
  const idleWindows: Record<string, number>[] = [];
  for (let i = 0; i < 6; i++) idleWindows.push(await wrkGet(server.url, paths, auth, concurrency, Math.min(seconds, 5)));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const idleWindowP99s = idleWindows.map((w) => w.p99);
  results.get_posts_idle_windows = { windows: idleWindows.length, p99s: idleWindowP99s, worst_window_p99: Math.max(...idleWindowP99s), median_window_p99: median(idleWindowP99s) };

  const readerLoad = { url: server.url, paths, headers: auth, connections: Number(values['read-connections']), delayMs: Number(values['read-delay-ms']) };
  const pacedIdle = readStats(await pacedReadsFor(readerLoad, seconds));
  results.paced_reads_idle = { load: `${readerLoad.connections} connections, ${readerLoad.delayMs} ms think time`, ...pacedIdle };
  console.log('paced reads idle', pacedIdle);

  for (const format of values.formats.split(',')) {
    const copySeconds = await rawCopySeconds();
    let quiet: ExportRun | undefined;
    if (values['quiet-run']) {
      quiet = await exportRun(format);
      if (quiet.exit !== 0) throw new Error(`export ${format} failed:\n${quiet.output}`);
    }
    const profileDir = values.profile ? path.join(import.meta.dirname, 'results', 'profiles', `export-${format}-${Date.now()}`) : undefined;
    const runs = exportRun(format, profileDir);
    // Live traffic for as long as the export runs (in windows, so it stops when the export does).
    const during: Record<string, number>[] = [];
    let finished = false;
    void runs.then(() => (finished = true));
    while (!finished) during.push(await wrkGet(server.url, paths, auth, concurrency, Math.min(seconds, 5)));
    const run = await runs;
    if (run.exit !== 0) throw new Error(`export ${format} failed:\n${run.output}`);
    const weighted = (key: string) => Math.round((during.reduce((s, w) => s + w[key] * w.rps, 0) / during.reduce((s, w) => s + w.rps, 0)) * 100) / 100;
    const p99During = Math.max(...during.map((w) => w.p99));
    const size = fs.readdirSync(path.join(server.dataDir, 'exports'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.zip')).length;
    results[`export_${format}`] = {
      seconds: run.seconds, peak_rss_mib: run.peak_rss_mib, target: '<= 30 s, <= 256 MiB',
      raw_copy_seconds: copySeconds, raw_copy_backend_cpu_seconds: results.raw_copy_backend_cpu_seconds, ratio_to_raw_copy: Math.round((run.seconds / copySeconds) * 10) / 10,
      node_cpu_seconds: run.node_cpu_seconds, backend_cpu_seconds: run.backend_cpu_seconds,
      ...(quiet ? {
        quiet_seconds: quiet.seconds, quiet_peak_rss_mib: quiet.peak_rss_mib, quiet_ratio_to_raw_copy: Math.round((quiet.seconds / copySeconds) * 10) / 10,
        quiet_node_cpu_seconds: quiet.node_cpu_seconds, quiet_backend_cpu_seconds: quiet.backend_cpu_seconds,
      } : {}),
      get_posts_during: { windows: during.length, worst_window_p99: p99During, mean_p50: weighted('p50'), rps: weighted('rps'), errors: during.reduce((s, w) => s + w.errors, 0) },
      p99_ratio_to_idle: Math.round((p99During / idle.p99) * 100) / 100,
      // Like for like: the worst of the export's windows against the worst of the idle windows, and medians.
      p99_ratio_worst_window_to_worst_idle_window: Math.round((p99During / Math.max(...idleWindowP99s)) * 100) / 100,
      p99_ratio_median_window_to_median_idle_window: Math.round((median(during.map((w) => w.p99)) / median(idleWindowP99s)) * 100) / 100,
      during_window_p99s: during.map((w) => w.p99),
      zips_in_store: size,
    };
    // The same export again beside live users (paced readers) instead of a saturating load, judged over exactly its run.
    const live = startPacedReads(readerLoad);
    await new Promise((r) => setTimeout(r, 1000));
    const pacedRun = await exportRun(format);
    const liveSamples = await live.stop();
    if (pacedRun.exit !== 0) throw new Error(`export ${format} failed:\n${pacedRun.output}`);
    const pacedDuring = readStats(liveSamples, pacedRun.from, pacedRun.to);
    Object.assign(results[`export_${format}`] as object, {
      with_paced_readers: {
        seconds: pacedRun.seconds, peak_rss_mib: pacedRun.peak_rss_mib, reads_during: pacedDuring,
        p99_ratio_to_idle: Math.round((pacedDuring.p99 / pacedIdle.p99) * 100) / 100,
        p95_ratio_to_idle: Math.round((pacedDuring.p95 / pacedIdle.p95) * 100) / 100,
      },
    });
    console.log(`export ${format}:`, JSON.stringify(results[`export_${format}`]));
    console.log(run.output.split('\n').slice(-4).join('\n'));
    if (profileDir) {
      const summary = analyseProfiles(profileDir);
      if (summary) {
        console.log(`profile ${summary.files[0]}: ${summary.busy_seconds} s busy of ${summary.seconds} s`);
        console.table(summary.by_area.slice(0, 12));
        console.table(summary.top_self.slice(0, 20));
      }
    }
  }
} finally {
  await monitor.end();
  await server.stop();
}
const outDir = path.join(import.meta.dirname, 'results');
fs.mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, `export-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`results: ${file}`);
