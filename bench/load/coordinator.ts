// The load coordinator: starts a scratch server (embedded PostgreSQL included), seeds it, forks load
// agents (separate processes on loopback) and either
//   --max-users N --minutes M   ramps users while the thresholds hold and reports where it settles, or
//   --users N --minutes M       runs a fixed number of users (ramped over the first minute) and checks them.
// Thresholds over each 1-minute window (../shared/reference/load-model.md): average request ≤ 100 ms,
// p99 ≤ 2 s, errors ≤ 0.025 %, timeouts ≤ 0.025 %, server + PostgreSQL CPU ≤ 85 % of the machine, their
// memory ≤ 85 %. Results: bench/results/load-<time>.json and .html (and load-latest.html).
// Run: npm run bench:load -- --users 1000 --minutes 3
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { moveToBatchScheduling } from '../../server/db/batch-scheduling.ts';
import { analyseProfiles } from '../lib/profile.ts';
import { descendants, ProcSampler } from '../lib/procstat.ts';
import { startBenchServer, type BenchServer } from '../lib/server.ts';
import { seedSessions } from '../lib/sessions.ts';
import { machine, summarize, writeResults } from '../lib/stats.ts';
import { seedWorld } from '../lib/world.ts';
import type { AgentConfig, FromAgent, ToAgent, UserSpec } from './protocol.ts';
import { renderLoadReport } from './report.ts';
import { Timeline } from './timeline.ts';
import { actionTable } from './user.ts';

const { values: args } = parseArgs({
  options: {
    'max-users': { type: 'string' },
    users: { type: 'string' },
    minutes: { type: 'string', default: '5' },
    agents: { type: 'string', default: '2' },
    posts: { type: 'string', default: '500000' },
    teams: { type: 'string' },
    'start-users': { type: 'string', default: '0' },
    step: { type: 'string', default: '8' },
    interval: { type: 'string', default: '2' },
    'start-rate': { type: 'string', default: '50' },
    'logins-per-second': { type: 'string', default: '2' },
    'wait-scale': { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '10000' },
    'pool-max': { type: 'string' },
    profile: { type: 'boolean', default: false },
    name: { type: 'string', default: 'load' },
  },
});

const fixedUsers = args.users ? Number(args.users) : undefined;
const maxUsers = fixedUsers ?? Number(args['max-users'] ?? 1000);
const minutes = Number(args.minutes);
if (!(maxUsers > 0) || !(minutes > 0) || minutes > 60) throw new Error('need --users N or --max-users N, and --minutes between 0 and 60');
const agentCount = Math.max(1, Math.min(8, Number(args.agents), Math.ceil(maxUsers / 50) || 1));
const interval = Number(args.interval);
const step = Number(args.step);
const windowSeconds = 60;
const thresholds = { mean_ms: 100, p99_ms: 2000, error_rate: 0.00025, timeout_rate: 0.00025, cpu_pct: 85, memory_pct: 85 };
const cores = os.cpus().length;
const resultsDir = path.join(import.meta.dirname, '..', 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const profileDir = path.join(resultsDir, 'profiles', stamp);

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

// A hard stop for the whole run, whatever happens: the run's minutes plus time to seed and report.
const hardLimitMs = (minutes + 20) * 60_000;
const hardStop = setTimeout(() => {
  console.error('coordinator: hard time limit reached, stopping');
  process.exit(3);
}, hardLimitMs);
hardStop.unref();

const env: Record<string, string> = {};
if (args.profile) env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profileDir}`;
if (args['pool-max']) env.CUSTODIAN_DB_POOL_MAX = args['pool-max'];
const loadBefore = os.loadavg();
log(`starting server (${machine().cores} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')})`);
const server: BenchServer = await startBenchServer(env);
const agents: ChildProcess[] = [];
let stopping = false;
const cleanup = async () => {
  if (stopping) return;
  stopping = true;
  for (const a of agents) if (a.connected) a.send({ type: 'stop' } satisfies ToAgent);
  await new Promise((r) => setTimeout(r, 1500));
  for (const a of agents) if (a.exitCode === null) a.kill('SIGKILL');
  await server.stop();
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  const seedUsers = maxUsers + Math.min(2000, Math.ceil(maxUsers * 0.2)) + 10;
  const teams = Number(args.teams ?? Math.max(1, Math.min(20, Math.round(seedUsers / 1000))));
  log(`seeding ${seedUsers} users, ${teams} teams, ${args.posts} posts`);
  const world = await seedWorld(server.owner(), { users: seedUsers, teams, posts: Number(args.posts), log: (l) => log(l.trim()) });
  const tokens = await seedSessions(server.owner(), world.userIds);

  // Agents: separate processes, each running its share of the users.
  const t0 = Date.now();
  const timeline = new Timeline(t0);
  const agentUsers = new Map<number, number>();
  const agentStarting = new Map<number, number>();
  const agentSockets = new Map<number, number>();
  const ready: Promise<void>[] = [];
  for (let i = 0; i < agentCount; i++) {
    const child = fork(path.join(import.meta.dirname, 'agent.ts'), [], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, BENCH_AGENT_MAX_MS: String((minutes + 5) * 60_000) } });
    agents.push(child);
    // Remote clients cannot take the server's CPU when it writes to them; agents on the same machine
    // would, woken by every frame and response. Under SCHED_BATCH they still get their share of the
    // CPU (and it is still counted), but never preempt the server or its database on wake-up.
    if (child.pid && !moveToBatchScheduling(child.pid)) log(`agent ${i}: could not move to SCHED_BATCH; it may preempt the server`);
    ready.push(new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`agent ${i} exited (${code})`)));
      child.on('message', (msg: FromAgent) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'report') {
          timeline.add(msg);
          agentUsers.set(msg.agent, msg.users);
          agentStarting.set(msg.agent, msg.starting);
          agentSockets.set(msg.agent, msg.ws.open);
        }
      });
    }));
    const config: AgentConfig = { agent: i, baseUrl: server.url, password: world.password, userIds: world.userIds, timeoutMs: Number(args['timeout-ms']), waitScale: Number(args['wait-scale']), maxSockets: 64, seed: 1 + i };
    child.send({ type: 'init', config } satisfies ToAgent);
  }
  await Promise.all(ready.map((p) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('agents did not start')), 30_000))])));

  const sampler = new ProcSampler(
    {
      server: () => [server.child.pid!],
      postgres: () => descendants(server.child.pid!),
      agents: () => agents.map((a) => a.pid!).filter(Boolean),
    },
    ['postgres'],
  );
  sampler.start(1000);

  // Users are handed out in index order, round-robin over agents, and taken back newest first.
  const placed: number[] = [];
  let nextIndex = 0;
  let loginBudget = 0;
  const addUsers = (count: number) => {
    const perAgent = new Map<number, UserSpec[]>();
    loginBudget = Math.min(loginBudget + Number(args['logins-per-second']) * interval, Number(args['logins-per-second']) * interval * 2);
    for (let k = 0; k < count; k++) {
      const index = nextIndex++ % world.userIds.length;
      const realLogin = loginBudget >= 1 || nextIndex > world.userIds.length;
      if (realLogin) loginBudget--;
      const agent = index % agentCount;
      (perAgent.get(agent) ?? perAgent.set(agent, []).get(agent)!).push({ index, userId: world.userIds[index], username: world.usernames[index], token: tokens[index], realLogin });
      placed.push(agent);
    }
    for (const [agent, users] of perAgent) agents[agent].send({ type: 'add', users } satisfies ToAgent);
  };
  const removeUsers = (count: number) => {
    const perAgent = new Map<number, number>();
    for (let k = 0; k < count && placed.length; k++) {
      const agent = placed.pop()!;
      perAgent.set(agent, (perAgent.get(agent) ?? 0) + 1);
    }
    for (const [agent, n] of perAgent) agents[agent].send({ type: 'remove', count: n } satisfies ToAgent);
  };

  const memTotalMiB = os.totalmem() / 2 ** 20;
  const evaluate = (seconds: number, now: number) => {
    const w = timeline.window(now - seconds, now);
    const proc = sampler.recent(seconds);
    const cpu = (proc.cpu.server + proc.cpu.postgres) / cores;
    const memory = ((proc.rss_mib.server + proc.rss_mib.postgres) / memTotalMiB) * 100;
    const failures: string[] = [];
    if (w.mean > thresholds.mean_ms) failures.push(`mean ${w.mean} ms`);
    if (w.p99 > thresholds.p99_ms) failures.push(`p99 ${w.p99} ms`);
    if (w.error_rate > thresholds.error_rate) failures.push(`errors ${(w.error_rate * 100).toFixed(3)} %`);
    if (w.timeout_rate > thresholds.timeout_rate) failures.push(`timeouts ${(w.timeout_rate * 100).toFixed(3)} %`);
    if (cpu > thresholds.cpu_pct) failures.push(`cpu ${cpu.toFixed(0)} %`);
    if (memory > thresholds.memory_pct) failures.push(`memory ${memory.toFixed(0)} %`);
    // CPU milliseconds per request: what each request costs the server and PostgreSQL (less sensitive to
    // a busy machine than latency is).
    const perRequest = (pct: number) => (w.requests ? round((pct * 10 * seconds) / w.requests, 2) : 0);
    return {
      window: w,
      cpu_pct: round(cpu),
      memory_pct: round(memory),
      process_cpu_pct: Object.fromEntries(Object.entries(proc.cpu).map(([k, v]) => [k, round(v)])),
      process_rss_mib: proc.rss_mib,
      cpu_ms_per_request: { server: perRequest(proc.cpu.server), postgres: perRequest(proc.cpu.postgres), agents: perRequest(proc.cpu.agents) },
      failures,
      ok: failures.length === 0,
    };
  };

  interface Tick {
    t: number;
    users: number;
    target: number;
    starting: number;
    action: string;
    rps: number;
    mean: number;
    p50: number;
    p99: number;
    errors: number;
    timeouts: number;
    long_ok: boolean;
    short_ok: boolean;
    failures: string[];
    cpu: Record<string, number>;
    rss_mib: Record<string, number>;
    machine_cpu_pct: number;
    ws_open: number;
    frames_per_second: number;
  }
  const ticks: Tick[] = [];
  // Best sustained level: at each passing 1-minute window, the fewest users seen during it.
  const usersAt = new Map<number, number>();
  let supported = 0;
  let supportedWindow: [number, number] | undefined;
  let firstBackoffAt: number | undefined;
  let holdUntil = 0;
  // Warm-up: the first users (all of them in fixed mode, --start-users when ramping) log in gradually,
  // `--start-rate` per second, as Mattermost's tool does; thresholds are judged only after it.
  const warmTarget = fixedUsers ?? Math.min(maxUsers, Number(args['start-users']));
  const warmPerTick = Math.max(1, Math.round(Number(args['start-rate']) * interval));
  let target = 0;
  let evalFrom: number | undefined = warmTarget > 0 ? undefined : 0;
  const runMs = minutes * 60_000;
  log(`${fixedUsers ? `fixed load: ${fixedUsers} users` : `ramp: from ${warmTarget} up to ${maxUsers} users, +${step} every ${interval} s while the thresholds hold`} for ${minutes} min on ${agentCount} agents (users start at ${args['start-rate']}/s)`);

  while (Date.now() - t0 < runMs) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    const now = timeline.second();
    const running = [...agentUsers.values()].reduce((s, n) => s + n, 0);
    const starting = [...agentStarting.values()].reduce((s, n) => s + n, 0);
    usersAt.set(now, running);
    const judged = evalFrom ?? now;
    const long = evaluate(Math.max(1, Math.min(windowSeconds, now - judged)), now);
    const short = evaluate(Math.max(1, Math.min(10, now - judged)), now);
    let action = 'hold';
    if (target < warmTarget) {
      const n = Math.min(warmPerTick, warmTarget - target);
      addUsers(n);
      target += n;
      action = `warm-up +${n}`;
    } else if (evalFrom === undefined) {
      // Judge from the moment every warm-up user is in.
      if (starting === 0) evalFrom = now;
      action = 'warm-up';
    } else if (fixedUsers) {
      action = 'hold';
    } else if (now - evalFrom >= 10 && Date.now() >= holdUntil) {
      if (!short.ok) {
        const n = Math.min(step, target);
        removeUsers(n);
        target -= n;
        action = `-${n}`;
        firstBackoffAt ??= now;
        holdUntil = Date.now() + 10_000;
      } else if (long.ok && target < maxUsers && starting < Math.max(50, step * 4)) {
        const n = Math.min(step, maxUsers - target);
        addUsers(n);
        target += n;
        action = `+${n}`;
      }
    } else if (now - evalFrom < 10 && target < maxUsers) {
      addUsers(Math.min(step, maxUsers - target));
      target = Math.min(maxUsers, target + step);
      action = `+${step}`;
    }
    if (evalFrom !== undefined && now - evalFrom >= windowSeconds && long.ok) {
      let fewest = Infinity;
      for (const [s, u] of usersAt) if (s >= now - windowSeconds && s <= now) fewest = Math.min(fewest, u);
      if (fewest !== Infinity && fewest >= supported) {
        supported = fewest;
        supportedWindow = [now - windowSeconds, now];
      }
    }
    const proc = sampler.samples.at(-1);
    const secondWin = timeline.window(now - interval, now);
    let frames = 0;
    for (const b of timeline.range(now - interval, now)) frames += b.wsFrames;
    const tick: Tick = {
      t: now,
      users: running,
      target,
      starting,
      action,
      rps: secondWin.rps,
      mean: secondWin.mean,
      p50: secondWin.p50,
      p99: secondWin.p99,
      errors: secondWin.errors,
      timeouts: secondWin.timeouts,
      long_ok: long.ok,
      short_ok: short.ok,
      failures: [...new Set([...long.failures, ...short.failures.map((f) => `10s: ${f}`)])],
      cpu: proc?.cpu ?? {},
      rss_mib: proc?.rss_mib ?? {},
      machine_cpu_pct: proc?.machine_cpu_pct ?? 0,
      ws_open: [...agentSockets.values()].reduce((s, n) => s + n, 0),
      frames_per_second: round(frames / interval),
    };
    ticks.push(tick);
    if (ticks.length % 5 === 1 || action.startsWith('-')) {
      log(`t=${now}s users=${running} (+${starting} starting) target=${target} ${action} | ${long.window.rps} req/s mean ${long.window.mean} ms p99 ${long.window.p99} ms err ${long.window.errors} to ${long.window.timeouts} | cpu server ${tick.cpu.server ?? 0}% pg ${tick.cpu.postgres ?? 0}% agents ${tick.cpu.agents ?? 0}% machine ${tick.machine_cpu_pct}% | ${long.ok ? 'ok' : long.failures.join(', ')}`);
    }
  }

  const end = timeline.second();
  const loadAfter = os.loadavg();
  sampler.stop();
  // The last minute after warm-up (shorter when the warm-up ended less than a minute before the end).
  const finalWindow: [number, number] = [Math.max(evalFrom ?? end - 1, end - windowSeconds), end];
  const final = evaluate(Math.max(1, finalWindow[1] - finalWindow[0]), end);
  if (evalFrom === undefined) final.failures.push('warm-up did not finish');
  if (finalWindow[1] - finalWindow[0] < windowSeconds) final.failures.push(`only ${finalWindow[1] - finalWindow[0]} s after warm-up (a full minute is needed)`);
  final.ok = final.failures.length === 0;
  const reportWindow = fixedUsers ? finalWindow : supportedWindow ?? finalWindow;
  const endpoints = timeline.endpoints(reportWindow[0], reportWindow[1]);
  const deliveries: number[] = [];
  let posted = 0;
  for (const b of timeline.range(reportWindow[0], reportWindow[1])) {
    for (const v of b.deliveryMs) deliveries.push(v);
    posted += b.wsPosted;
  }
  const actions = timeline.totals(0, end + 1, (b) => b.actions);
  const skipped = timeline.totals(0, end + 1, (b) => b.skipped);
  const windowActions = timeline.totals(reportWindow[0], reportWindow[1], (b) => b.actions);
  const windowSkipped = timeline.totals(reportWindow[0], reportWindow[1], (b) => b.skipped);
  const usersInWindow = ticks.filter((t) => t.t > reportWindow[0] && t.t <= reportWindow[1]).map((t) => t.users);
  const meanUsers = usersInWindow.reduce((s, u) => s + u, 0) / (usersInWindow.length || 1);
  const settleTicks = firstBackoffAt !== undefined ? ticks.filter((t) => t.t >= Math.max(firstBackoffAt!, end - 120)) : [];
  const samples: string[] = [];
  for (const b of timeline.buckets.values()) for (const s of b.samples) if (samples.length < 30) samples.push(`t=${b.second}s ${s}`);

  const results = {
    kind: 'load',
    machine: machine(),
    load_average: { before: loadBefore.map((l) => round(l, 2)), after: loadAfter.map((l) => round(l, 2)) },
    caveat: 'One 2-core machine shared by the server, PostgreSQL, the load agents and (during this work) other engineers\' test suites: figures are noisy and the agents\' own CPU counts against the server.',
    mode: fixedUsers ? 'fixed' : 'ramp',
    options: { users: fixedUsers, max_users: fixedUsers ? undefined : maxUsers, minutes, agents: agentCount, step, interval_s: interval, start_users: warmTarget, start_rate: Number(args['start-rate']), judged_from_t: evalFrom, logins_per_second: Number(args['logins-per-second']), wait_scale: Number(args['wait-scale']), timeout_ms: Number(args['timeout-ms']), profile: args.profile },
    data: { users: world.userIds.length, teams: world.teamIds.length, channels: world.channels, posts: world.posts, seed_seconds: world.seconds, database_mib: Math.round(world.bytes.database / 2 ** 20) },
    thresholds,
    supported_users: fixedUsers ? (final.ok ? fixedUsers : 0) : supported,
    supported_note: fixedUsers
      ? `fixed load of ${fixedUsers} users: the last 1-minute window ${final.ok ? 'met' : 'missed'} the thresholds${final.ok ? '' : ` (${final.failures.join(', ')})`}`
      : supported >= maxUsers
        ? `at least ${supported}: every threshold held for a full minute at the ceiling of this run (--max-users ${maxUsers})`
        : `the most users kept for a full 1-minute window with every threshold met${firstBackoffAt !== undefined ? `; after backing off first at t=${firstBackoffAt}s it settled around ${Math.round(settleTicks.reduce((s, t) => s + t.users, 0) / (settleTicks.length || 1))} users` : ''}`,
    settle: settleTicks.length ? { from_t: settleTicks[0].t, mean_users: Math.round(settleTicks.reduce((s, t) => s + t.users, 0) / settleTicks.length), min_users: Math.min(...settleTicks.map((t) => t.users)), max_users: Math.max(...settleTicks.map((t) => t.users)) } : undefined,
    report_window: { from_t: reportWindow[0], to_t: reportWindow[1], mean_users: Math.round(meanUsers), checks: evaluate(reportWindow[1] - reportWindow[0], reportWindow[1]) },
    final_window: final,
    endpoints,
    websocket: {
      posted_events_received: posted,
      posted_delivery_ms: summarize(deliveries),
    },
    model: {
      actions_per_user_per_minute: round((Object.values(windowActions).reduce((s, n) => s + n, 0) + Object.values(windowSkipped).reduce((s, n) => s + n, 0)) / Math.max(1, meanUsers) / ((reportWindow[1] - reportWindow[0]) / 60), 2),
      posts_per_second_per_1000_users: round(((endpoints.find((e) => e.endpoint === 'POST /posts')?.per_second ?? 0) / Math.max(1, meanUsers)) * 1000, 2),
      actions,
      skipped,
      table: actionTable,
    },
    ticks,
    proc_samples: sampler.samples,
    error_samples: samples,
    profile: undefined as unknown,
  };
  await cleanup();
  if (args.profile) results.profile = analyseProfiles(profileDir);
  const json = writeResults(args.name, results);
  const html = json.replace(/\.json$/, '.html');
  fs.writeFileSync(html, renderLoadReport(results));
  fs.copyFileSync(html, path.join(resultsDir, `${args.name}-latest.html`));
  fs.copyFileSync(json, path.join(resultsDir, `${args.name}-latest.json`));
  log(`report: ${html}`);
  log(`supported users: ${results.supported_users} — ${results.supported_note}`);
  console.table(endpoints.slice(0, 25).map((e) => ({ endpoint: e.endpoint, count: e.count, p50: e.p50, p99: e.p99, errors: e.errors, timeouts: e.timeouts, '4xx': e.client_errors })));
} catch (err) {
  console.error(err);
  await cleanup();
  process.exitCode = 1;
} finally {
  await cleanup();
  clearTimeout(hardStop);
}
