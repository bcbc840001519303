// `npm run bench`: runs the benchmarks one after another (each starts its own scratch server with
// embedded PostgreSQL, so nothing else should run on the machine meanwhile) and writes one summary:
// bench/results/summary-<time>.json and .html, the headline figure of each beside its target and the
// ratio to the raw limit measured in the same run.
//   npm run bench                    # quick sizes, about 15 minutes on 2 cores
//   npm run bench -- --full          # the sizes the targets name (1 M posts, 10,000 sockets…), about 45 minutes
//   npm run bench -- --only audit,export
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { page, table } from './load/report.ts';
import { machine, writeResults } from './lib/stats.ts';

interface Headline {
  label: string;
  /** Dotted path into the benchmark's result JSON. */
  path: string;
  unit?: string;
  target?: string;
}

interface Benchmark {
  name: string;
  script: string;
  quick: string[];
  full: string[];
  headlines: Headline[];
}

const benchmarks: Benchmark[] = [
  {
    name: 'messaging',
    script: 'messaging.ts',
    quick: ['--posts', '200000', '--channels', '200', '--seconds', '10', '--inserts', '1000'],
    full: [],
    headlines: [
      { label: 'GET posts p50 (paced)', path: 'get_posts_per_page_60.paced_25ms_think_time.p50', unit: 'ms', target: '≤ 5 ms' },
      { label: 'GET posts p99 (paced)', path: 'get_posts_per_page_60.paced_25ms_think_time.p99', unit: 'ms', target: '≤ 20 ms' },
      { label: 'GET posts throughput ÷ raw keyset read', path: 'get_posts_ratio_to_raw_rps' },
      { label: 'post create ÷ raw INSERT (16 concurrent)', path: 'post_create.concurrent_16.ratio_api_to_raw_throughput' },
      { label: 'database per million posts', path: 'db_gb_per_million_posts', unit: 'GB', target: '≤ 0.75 GB' },
    ],
  },
  {
    name: 'realtime',
    script: 'realtime.ts',
    quick: ['--sockets', '2000', '--posts', '20'],
    full: [],
    headlines: [
      { label: 'post → posted to 1,000 members p99', path: 'fanout_post_to_posted.p99', unit: 'ms', target: '≤ 50 ms' },
      { label: 'bare ws broadcast p99 (same run)', path: 'bare_ws_broadcast.p99', unit: 'ms' },
      { label: 'fan-out p99 ÷ bare ws p99', path: 'fanout_ratio_p99_to_bare' },
      { label: 'server RSS with idle sockets', path: 'idle_sockets.server_rss_mib_with_sockets', unit: 'MiB', target: '< 1 GB at 10,000' },
    ],
  },
  {
    name: 'audit',
    script: 'audit.ts',
    quick: ['--seconds', '8', '--records', '200000'],
    full: [],
    headlines: [
      { label: 'audit records/s (each committed alone)', path: 'throughput.audit_records_each_committed_alone.per_second', target: '≥ 5,000/s' },
      { label: 'raw INSERT/s (same bytes, same run)', path: 'throughput.raw_insert_same_bytes.per_second' },
      { label: 'audit append ÷ raw INSERT', path: 'throughput.ratio_records_alone_to_raw' },
      { label: 'audit append ÷ raw prepared INSERT', path: 'throughput.ratio_records_alone_to_raw_prepared' },
      { label: 'audit adds to a request (p50)', path: 'request_overhead.audit_adds_p50_ms', unit: 'ms', target: '≤ 1 ms' },
      { label: 'verify records', path: 'verification.records' },
      { label: 'verify seconds', path: 'verification.verify_database_seconds', unit: 's', target: '≤ 10 s per 1 M' },
    ],
  },
  {
    name: 'export',
    script: 'export.ts',
    quick: ['--posts', '200000', '--channels', '200'],
    full: [],
    headlines: [
      { label: 'Actiance XML export', path: 'export_actiance.seconds', unit: 's', target: '≤ 30 s per 1 M' },
      { label: 'Actiance peak RSS', path: 'export_actiance.peak_rss_mib', unit: 'MiB', target: '≤ 256 MB' },
      { label: 'CSV export', path: 'export_csv.seconds', unit: 's', target: '≤ 30 s per 1 M' },
      { label: 'CSV peak RSS', path: 'export_csv.peak_rss_mib', unit: 'MiB', target: '≤ 256 MB' },
      { label: 'GET posts p99 during export ÷ idle', path: 'export_actiance.p99_ratio_to_idle', target: '≤ 1.5' },
    ],
  },
  {
    name: 'retention',
    script: 'retention.ts',
    quick: ['--posts', '200000', '--users', '2000'],
    full: [],
    headlines: [
      { label: 'eDiscovery search p95', path: 'search.ediscovery_ms.p95', unit: 'ms', target: '≤ 200 ms at 10 M' },
      { label: 'user search p95', path: 'search.user_search_ms.p95', unit: 'ms', target: '≤ 200 ms at 10 M' },
      { label: 'purge posts/s', path: 'purge.posts_per_second', target: '≥ 50,000/s' },
      { label: 'GET posts p99 during purge', path: 'reads.during_purge.p99', unit: 'ms' },
      { label: 'GET posts p99 idle', path: 'reads.idle.p99', unit: 'ms' },
    ],
  },
  {
    name: 'cluster',
    script: 'cluster.ts',
    quick: [],
    full: [],
    headlines: [{ label: 'post on node B → posted on node A p99', path: 'node_b_post_to_node_a_posted.p99', unit: 'ms', target: '≤ 100 ms' }],
  },
  {
    name: 'load',
    script: 'load/coordinator.ts',
    quick: ['--max-users', '3000', '--start-users', '500', '--minutes', '5', '--posts', '200000'],
    full: ['--max-users', '12000', '--start-users', '2000', '--minutes', '12'],
    headlines: [
      { label: 'supported users', path: 'supported_users', target: '10,000 (moonshot)' },
      { label: 'mean request at that load', path: 'report_window.checks.window.mean', unit: 'ms', target: '≤ 100 ms' },
      { label: 'p99 at that load', path: 'report_window.checks.window.p99', unit: 'ms', target: '≤ 2 s' },
      { label: 'server + PostgreSQL CPU at that load', path: 'report_window.checks.cpu_pct', unit: '%', target: '≤ 85 %' },
    ],
  },
];

const { values: args } = parseArgs({ options: { full: { type: 'boolean', default: false }, only: { type: 'string' } } });
const only = args.only ? new Set(args.only.split(',')) : undefined;
const unknown = [...(only ?? [])].filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);

function dig(value: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

/** Runs one benchmark as its own process, echoing its output; resolves with its results file. */
function runOne(b: Benchmark): Promise<{ file?: string; code: number; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(import.meta.dirname, b.script), ...(args.full ? b.full : b.quick)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let file: string | undefined;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      // Each benchmark prints "results: <file>" for its JSON (the load test also writes HTML beside it).
      for (const line of lines) if (/^(?:\[[^\]]*\] )?results: (.+\.json)/.test(line)) file = /results: (.+\.json)/.exec(line)![1].trim();
    });
    child.on('close', (code) => resolve({ file, code: code ?? 1, seconds: Math.round((Date.now() - started) / 1000) }));
  });
}

const rows: unknown[][] = [];
const summary: Record<string, unknown> = { machine: machine(), mode: args.full ? 'full' : 'quick', started_at: new Date().toISOString(), benchmarks: {} };
for (const b of benchmarks) {
  if (only && !only.has(b.name)) continue;
  console.log(`\n=== ${b.name} (${args.full ? 'full' : 'quick'}) ===`);
  const run = await runOne(b);
  const results = run.file && fs.existsSync(run.file) ? JSON.parse(fs.readFileSync(run.file, 'utf8')) : undefined;
  const figures = Object.fromEntries(b.headlines.map((h) => [h.label, results ? dig(results, h.path) ?? null : null]));
  (summary.benchmarks as Record<string, unknown>)[b.name] = { exit_code: run.code, seconds: run.seconds, results_file: run.file ?? null, figures };
  for (const h of b.headlines) {
    const value = figures[h.label];
    rows.push([b.name, h.label, typeof value === 'number' ? value : value == null ? '—' : String(value), h.unit ?? '', h.target ?? '', run.code === 0 ? 'ok' : `exit ${run.code}`]);
  }
}

const file = writeResults('summary', summary);
const html = page(
  'Custodian benchmarks',
  `<h1>Custodian benchmarks</h1><p class="muted">${summary.mode} run started ${summary.started_at} on ${JSON.stringify(summary.machine)}. Each benchmark compares with the raw limit measured in the same run; absolute figures move with whatever else the machine does.</p>` +
    `<div class="card">${table(['benchmark', 'figure', 'value', 'unit', 'target', 'run'], rows)}</div>`,
);
fs.writeFileSync(file.replace(/\.json$/, '.html'), html);
console.log(`summary: ${file.replace(/\.json$/, '.html')}`);
