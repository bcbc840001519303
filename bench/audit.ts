// Audit log benchmarks (issue: tamper-evident audit log). Run: npm run bench:audit -- [--seconds S] [--records N]
// Figures, all against a real server process (embedded PostgreSQL, production durability: fsync on):
// - audited actions/s sustained by 16 concurrent writers (and 32, 64) through the app role and the real recordAudit,
//   beside raw single-row INSERTs of the same bytes into a same-shape table in the same run, and
//   whether the server's sealer keeps up (outbox backlog at the end);
// - sealing throughput and verification time of N (default 1,000,000) records: `verifyDatabase`
//   in-process, `custodian audit verify` end to end, and an exported bundle verified offline;
// - what audit adds to a request: p50 of the same transaction with and without its audit record,
//   sequential, plus the p50 of an audited HTTP request (POST /api/v4/channels) for scale.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditKeyDir, checkpointFilePath, exportBundle, recordAudit, verifyBundle, verifyDatabase } from '../audit/index.ts';
import { normalizeRecord, recordJson } from '../audit/record.ts';
import { createSession } from '../server/auth/sessions.ts';
import { APP_ROLE } from '../server/db/app-role.ts';
import { createKnex } from '../server/db/connection.ts';
import type { PgTarget } from '../server/db/targets.ts';
import { createUser } from '../server/users/service.ts';
import { runCli } from '../test/support/cli.ts';
import { closedLoop } from './lib/load.ts';
import { descendants, processCpuSeconds } from './lib/procstat.ts';
import { startBenchServer } from './lib/server.ts';
import { machine, since, summarize, writeResults } from './lib/stats.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, records: { type: 'string', default: '1000000' }, writers: { type: 'string', default: '16' }, 'sweep-writers': { type: 'string', default: '16,32,64' }, 'sustain-seconds': { type: 'string', default: '60' }, samples: { type: 'string', default: '2000' }, 'stream-file': { type: 'string', default: 'true' } } });
const seconds = Number(values.seconds);
const recordCount = Number(values.records);
const writers = Number(values.writers);
// The log's ingest capacity is also measured at these writer counts (PostgreSQL shares WAL flushes among
// concurrent commits, so throughput depends on concurrency): the raw INSERT beside it at each.
const sweepWriters = values['sweep-writers'].split(',').map(Number).filter((w) => w > 0);
const samples = Number(values.samples);
const results: Record<string, unknown> = { machine: machine(), writers, seconds };
const round = (n: number) => Math.round(n * 100) / 100;

/** CPU milliseconds used so far, split by who used them. */
interface CpuSplit {
  /** This benchmark's own process: the writers' client side (knex, pg). */
  client: number;
  /** The server's Node process: the sealer, checkpoints, streams. */
  server: number;
  /** The server's PostgreSQL (postmaster and backends, exited backends included through their parent's counters). */
  postgres: number;
}

/**
 * CPU used by this process and by the server's process tree. Other work on a shared machine inflates
 * wall-clock figures; CPU per action says what the audit log itself costs, and the split says which
 * side a change moves.
 */
function cpuMs(serverPid: number): CpuSplit {
  const own = process.cpuUsage();
  const postgres = descendants(serverPid).reduce((sum, pid) => sum + processCpuSeconds(pid, true), 0);
  return { client: (own.user + own.system) / 1000, server: processCpuSeconds(serverPid, true) * 1000, postgres: postgres * 1000 };
}

const totalMs = (c: CpuSplit) => c.client + c.server + c.postgres;

const server = await startBenchServer({ CUSTODIAN_AUDIT_STREAM_FILE: values['stream-file'] });
results.stream_file = values['stream-file'];
const ownerTarget = server.owner() as PgTarget;
const appTarget: PgTarget = { ...ownerTarget, user: APP_ROLE, password: fs.readFileSync(path.join(server.dataDir, 'secrets', 'db-app-password'), 'utf8').trim() };
const owner = createKnex(ownerTarget, 4, 'bench-owner');
const app = createKnex(appTarget, Math.max(writers, ...sweepWriters) + 2, 'bench-app');

/** A realistic record: a channel created by a user over the API. */
const auditRecord = (i: number) => ({
  event_name: 'create_channel', status: 'success' as const,
  actor: { user_id: 'x7fk3g9qbtrdmphzmb1n5ewkqa', session_id: 'q8rw4hd1jbf7x5yd3ny9tcg6ke', ip_address: '10.1.2.3', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Mattermost/5.10' },
  event: { parameters: { team_id: 'kx9ba1h8ctrwzq5oy7dnjm3g4e', name: `channel-${i}`, display_name: `Channel ${i}`, type: 'O' }, resulting_state: { channel_id: 'b3nd8r1gtq7ke4wmy9z6pxuhfa', name: `channel-${i}`, type: 'O' }, object_type: 'channel' },
  meta: { api_path: '/api/v4/channels', node_id: 'bench' },
});

async function backlog(): Promise<number> {
  return Number((await owner('audit_outbox').count({ n: '*' }))[0].n);
}

async function waitSealed(timeoutMs: number): Promise<number> {
  const start = performance.now();
  while ((await backlog()) > 0) {
    if (since(start) > timeoutMs) throw new Error('the sealer did not catch up');
    await new Promise((r) => setTimeout(r, 100));
  }
  return since(start);
}

try {
  await owner.raw(`CREATE TABLE bench_actions (id bigserial PRIMARY KEY, team_id text NOT NULL, name text NOT NULL, create_at bigint NOT NULL)`);
  await owner.raw(`CREATE TABLE bench_raw_audit (LIKE audit_outbox INCLUDING ALL)`);
  await owner.raw(`GRANT SELECT, INSERT ON bench_actions, bench_raw_audit TO ${APP_ROLE}`);
  await owner.raw(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`);
  const text = recordJson(normalizeRecord(auditRecord(0)));
  const loadAverage = os.loadavg()[0];
  results.record_bytes = Buffer.byteLength(text) + 12;

  // 1. Throughput, 16 concurrent writers, each alone on the machine in turn, after a warm-up.
  let n = 0;
  const ms = seconds * 1000;
  const pid = server.child.pid!;
  /** Runs a closed loop and adds the CPU it cost per operation; `settle` waits for background work (sealing) to finish. */
  const measured = async (fn: (w: number) => Promise<boolean>, settle?: () => Promise<unknown>, concurrency = writers, durationMs = ms) => {
    await quiesce();
    const cpu0 = cpuMs(pid);
    const r = await closedLoop(concurrency, durationMs, fn);
    const backlogAtEnd = await backlog();
    await settle?.();
    const cpu1 = cpuMs(pid);
    const perOp = (key: keyof CpuSplit) => Math.round(((cpu1[key] - cpu0[key]) * 1000) / r.count);
    const cpuPerOp = ((totalMs(cpu1) - totalMs(cpu0)) * 1000) / r.count;
    return {
      seconds: durationMs / 1000, per_second: r.rps, p50_ms: r.p50, p99_ms: r.p99, errors: r.errors, outbox_backlog_at_end: backlogAtEnd,
      cpu_us_per_op: Math.round(cpuPerOp), cpu_us_per_op_split: { client: perOp('client'), server: perOp('server'), postgres: perOp('postgres') },
      per_second_if_cpu_were_ours: Math.round((machine().cores as number) * 1e6 / cpuPerOp),
    };
  };
  const sealed = () => waitSealed(120_000);
  // Work a phase leaves behind (autovacuum of the rows it inserted, dirty pages for the next checkpoint)
  // would otherwise land in the phase after it: each phase starts with it done.
  async function quiesce() {
    await waitSealed(120_000);
    await owner.raw('VACUUM (ANALYZE) bench_raw_audit, bench_actions, audit_outbox, audit_log');
    await owner.raw('CHECKPOINT');
  }
  // Warm-up, not measured: a long-running server's code is optimized by the JIT, a fresh process's is not.
  await closedLoop(writers, 5000, () => app.raw('INSERT INTO bench_raw_audit (record) VALUES (?)', [text]).options({ name: 'bench_raw_insert' }).then(() => true));
  await closedLoop(writers, 5000, () => recordAudit(app, auditRecord(n++)).then(() => true));
  const raw = await measured(() => app.raw('INSERT INTO bench_raw_audit (record) VALUES (?)', [text]).then(() => true));
  // The same INSERT as a named prepared statement, as recordAudit sends it: the best a client can do.
  const rawPrepared = await measured(() => app.raw('INSERT INTO bench_raw_audit (record) VALUES (?)', [text]).options({ name: 'bench_raw_insert' }).then(() => true));
  const actionOnly = await measured((w) => app.transaction(async (trx) => {
    await trx.raw('INSERT INTO bench_actions (team_id, name, create_at) VALUES (?, ?, ?)', [`team${w}`, `c${n++}`, Date.now()]);
  }).then(() => true));
  const before = Number((await owner('audit_head').first('seq')).seq);
  // The audit log's own ingest capacity: each record committed on its own, like the raw INSERTs above.
  // Sustained: long enough for the checkpoints and autovacuum of the log's own tables to happen inside it.
  const recordsAlone = await measured(() => recordAudit(app, auditRecord(n++)).then(() => true), sealed, writers, Number(values['sustain-seconds']) * 1000);
  const auditOnly = await measured(() => app.transaction((trx) => recordAudit(trx, auditRecord(n++))).then(() => true), sealed);
  const actionAndAudit = await measured((w) => app.transaction(async (trx) => {
    const i = n++;
    await trx.raw('INSERT INTO bench_actions (team_id, name, create_at) VALUES (?, ?, ?)', [`team${w}`, `c${i}`, Date.now()]);
    await recordAudit(trx, auditRecord(i));
  }).then(() => true), sealed);
  // The log's ingest capacity against the raw INSERT's at each writer count, alternating, so both see the same machine.
  const sweep: Record<string, unknown>[] = [];
  for (const concurrency of sweepWriters) {
    const rawAt = await measured(() => app.raw('INSERT INTO bench_raw_audit (record) VALUES (?)', [text]).options({ name: 'bench_raw_insert' }).then(() => true), undefined, concurrency);
    const recordsAt = await measured(() => recordAudit(app, auditRecord(n++)).then(() => true), sealed, concurrency);
    sweep.push({ writers: concurrency, raw_prepared_insert_per_second: rawAt.per_second, audit_records_per_second: recordsAt.per_second, ratio: round(recordsAt.per_second / rawAt.per_second), audit_cpu_us_per_record: recordsAt.cpu_us_per_op, audit_p50_ms: recordsAt.p50_ms, audit_p99_ms: recordsAt.p99_ms });
    console.log('writers', concurrency, JSON.stringify(sweep.at(-1)));
  }
  const best = sweep.reduce((a, b) => ((b.audit_records_per_second as number) > (a.audit_records_per_second as number) ? b : a));
  const drainMs = await waitSealed(120_000);
  const sealedDuring = Number((await owner('audit_head').first('seq')).seq) - before;
  results.throughput = {
    load_average_at_start: loadAverage,
    raw_insert_same_bytes: raw,
    raw_prepared_insert_same_bytes: rawPrepared,
    action_without_audit: actionOnly,
    audit_records_each_committed_alone: recordsAlone,
    audited_action_audit_record_only: auditOnly,
    audited_action_with_action_row: actionAndAudit,
    sealer_caught_up_ms_after_load: Math.round(drainMs),
    records_sealed: sealedDuring,
    ratio_records_alone_to_raw: round(recordsAlone.per_second / raw.per_second),
    ratio_records_alone_to_raw_prepared: round(recordsAlone.per_second / rawPrepared.per_second),
    ratio_audit_only_to_raw: round(auditOnly.per_second / raw.per_second),
    ratio_action_with_audit_to_action_alone: round(actionAndAudit.per_second / actionOnly.per_second),
    audit_records_by_writers: sweep,
    audit_records_best: best,
    target: '>= 5,000 audited actions/s',
  };
  console.log('throughput', JSON.stringify(results.throughput, null, 1));

  // 2. What audit adds to a request: the same transaction with and without its record, one at a time.
  const timeOne = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return since(t);
  };
  const without: number[] = [];
  const withAudit: number[] = [];
  for (let i = 0; i < samples; i++) {
    // Interleaved, so both see the same machine.
    without.push(await timeOne(() => app.transaction(async (trx) => {
      await trx.raw('INSERT INTO bench_actions (team_id, name, create_at) VALUES (?, ?, ?)', ['t', `s${i}`, Date.now()]);
    })));
    withAudit.push(await timeOne(() => app.transaction(async (trx) => {
      await trx.raw('INSERT INTO bench_actions (team_id, name, create_at) VALUES (?, ?, ?)', ['t', `a${i}`, Date.now()]);
      await recordAudit(trx, auditRecord(i));
    })));
  }
  const w = summarize(without);
  const a = summarize(withAudit);
  // An audited HTTP request end to end, for scale: POST /api/v4/channels, one at a time.
  const user = await createUser(owner, { email: 'bench@example.com', username: 'bench', password: 'a long bench passphrase', roles: 'system_user' });
  const { token } = await createSession(owner, { user, lifetimeMs: 3600_000 });
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const team = (await (await fetch(`${server.url}/api/v4/teams`, { method: 'POST', headers, body: JSON.stringify({ name: 'bench-team', display_name: 'Bench', type: 'O' }) })).json()) as { id: string };
  const http: number[] = [];
  for (let i = 0; i < Math.min(samples, 1000); i++) {
    http.push(await timeOne(async () => {
      const res = await fetch(`${server.url}/api/v4/channels`, { method: 'POST', headers, body: JSON.stringify({ team_id: team.id, name: `http-${i}`, display_name: `HTTP ${i}`, type: 'O' }) });
      if (res.status !== 201) throw new Error(`POST /channels: ${res.status}`);
      await res.arrayBuffer();
    }));
  }
  results.request_overhead = {
    transaction_without_audit: w, transaction_with_audit: a, audit_adds_p50_ms: round(a.p50 - w.p50), audit_adds_mean_ms: round(a.mean - w.mean),
    http_post_channels_audited: summarize(http), target: '<= 1 ms p50',
  };
  console.log('request overhead', JSON.stringify(results.request_overhead, null, 1));
  await waitSealed(60_000);

  // 3. Sealing and verification of N records: queue them in bulk, let the server's sealer chain and
  // checkpoint them, then verify.
  const existing = Number((await owner('audit_head').first('seq')).seq);
  const toAdd = Math.max(0, recordCount - existing);
  let t = performance.now();
  for (let done = 0; done < toAdd; done += 100_000) {
    const batch = Math.min(100_000, toAdd - done);
    // Canonical JSON, as recordAudit writes it (members in RFC 8785 order), built in SQL for speed.
    await owner.raw(`INSERT INTO audit_outbox (record)
      SELECT '{"actor":{"ip_address":"10.1.2.3","session_id":"' || substr(md5('s' || g), 1, 26) || '","user_agent":"Mozilla/5.0 (X11; Linux x86_64) Mattermost/5.10","user_id":"' || substr(md5('u' || g), 1, 26)
        || '"},"error":{},"event":{"object_type":"channel","parameters":{"display_name":"Channel ' || g || '","name":"channel-' || g || '","team_id":"kx9ba1h8ctrwzq5oy7dnjm3g4e","type":"O"},"prior_state":{},"resulting_state":{"channel_id":"'
        || substr(md5('c' || g), 1, 26) || '","name":"channel-' || g || '","type":"O"}},"event_name":"create_channel","id":"' || substr(md5(g::text), 1, 26)
        || '","meta":{"api_path":"/api/v4/channels","node_id":"bench"},"status":"success","timestamp":' || (extract(epoch FROM now()) * 1000)::bigint || '}'
      FROM generate_series(?::bigint, ?::bigint) g`, [done + 1, done + batch]);
  }
  const queuedMs = since(t);

  t = performance.now();
  await waitSealed(3_600_000);
  const sealMs = since(t);
  const sample = (await owner('audit_log').orderBy('seq', 'desc').first('record')).record as string;
  if (recordJson(JSON.parse(sample)) !== sample) throw new Error(`bulk records are not canonical: ${sample}`);
  // The server signs checkpoints every 10,000 records as it seals; wait for the last one.
  const head = Number((await owner('audit_head').first('seq')).seq);
  const deadline = Date.now() + 120_000;
  while (Number((await owner('audit_checkpoints').max({ e: 'seq_end' }))[0].e ?? 0) < head - 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const keys = new AuditKeyDir(server.dataDir);
  t = performance.now();
  const verifyCpu0 = process.cpuUsage();
  const verified = await verifyDatabase(owner, { trustedKeys: keys.publicKeys(), checkpointFiles: [checkpointFilePath(server.dataDir)] });
  const verifyMs = since(t);
  const verifyCpu = process.cpuUsage(verifyCpu0);
  if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified.first)}`);
  const cliEnv = {
    DATABASE_URL: `postgresql://${ownerTarget.user}:${encodeURIComponent(ownerTarget.password)}@localhost:${ownerTarget.port}/${ownerTarget.database}?host=${encodeURIComponent(ownerTarget.host)}`,
    CUSTODIAN_DATA_DIR: server.dataDir, CUSTODIAN_LOG_LEVEL: 'warn',
  };
  t = performance.now();
  const cli = await runCli(['audit', 'verify'], cliEnv, 600_000);
  const cliMs = since(t);
  const bundle = path.join(server.dataDir, 'bench-bundle.jsonl');
  t = performance.now();
  await exportBundle(owner, keys, {}, bundle, { nodeId: 'bench' });
  const exportMs = since(t);
  t = performance.now();
  const offline = await verifyBundle(bundle, { trustedKeys: keys.publicKeys() });
  const bundleMs = since(t);
  results.verification = {
    records: verified.records, checkpoints: verified.checkpoints,
    queue_insert_seconds: round(queuedMs / 1000),
    sealer_records_per_second: Math.round(toAdd / (sealMs / 1000)),
    verify_database_seconds: round(verifyMs / 1000),
    verify_database_cpu_seconds_verifier: round((verifyCpu.user + verifyCpu.system) / 1e6),
    load_average_during: os.loadavg()[0],
    cli_audit_verify_seconds: round(cliMs / 1000), cli_exit_code: cli.code, cli_output: cli.stdout.trim(),
    export_bundle_seconds: round(exportMs / 1000), bundle_mib: round(fs.statSync(bundle).size / 2 ** 20),
    verify_bundle_offline_seconds: round(bundleMs / 1000), bundle_ok: offline.ok,
    target: 'verification of 1M records <= 10 s',
  };
  console.log('verification', JSON.stringify(results.verification, null, 1));
  results.audit_log_bytes_per_record = Math.round(Number((await owner.raw("SELECT pg_total_relation_size('audit_log') AS b")).rows[0].b) / head);
} finally {
  await app.destroy();
  await owner.destroy();
  await server.stop();
}
writeResults('audit', results);
