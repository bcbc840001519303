// Renders benchmark results as one self-contained HTML page: inline SVG charts and tables, no scripts,
// no external assets, so the file can be mailed around or attached to an issue.

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (n: number) => (Number.isInteger(n) || Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en') : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

/** Nice round tick values covering [0, max]. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + stepSize * 0.001; v += stepSize) out.push(Math.round(v * 1e6) / 1e6);
  if (out.at(-1)! < max) out.push(out.at(-1)! + stepSize);
  return out;
}

/** A line chart over time (x in seconds) with optional horizontal threshold lines. */
export function lineChart(o: { title: string; series: Series[]; yUnit?: string; thresholds?: { value: number; label: string }[]; width?: number; height?: number; yMax?: number }): string {
  const width = o.width ?? 920;
  const height = o.height ?? 240;
  const m = { l: 58, r: 16, t: 30, b: 34 };
  const all = o.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const dataMax = Math.max(0, ...all.map((p) => p[1]), ...(o.thresholds ?? []).map((t) => t.value));
  const yTicks = ticks(o.yMax ? Math.min(o.yMax, dataMax) : dataMax);
  const yMax = yTicks.at(-1)!;
  const x = (v: number) => m.l + (v / xMax) * (width - m.l - m.r);
  const y = (v: number) => height - m.b - (Math.min(v, yMax) / yMax) * (height - m.t - m.b);
  const xTicks = ticks(xMax, 8);
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(o.title)}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<text x="${m.l}" y="18" class="ct">${esc(o.title)}</text>`);
  for (const v of yTicks) parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${m.l - 6}" y="${y(v) + 4}" class="ax" text-anchor="end">${fmt(v)}${o.yUnit ?? ''}</text>`);
  for (const v of xTicks) if (v <= xMax) parts.push(`<text x="${x(v)}" y="${height - m.b + 16}" class="ax" text-anchor="middle">${v >= 60 ? `${Math.floor(v / 60)}m${v % 60 ? Math.round(v % 60) + 's' : ''}` : `${v}s`}</text>`);
  for (const t of o.thresholds ?? []) parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${y(t.value)}" y2="${y(t.value)}" class="th"/><text x="${width - m.r - 4}" y="${y(t.value) - 4}" class="thl" text-anchor="end">${esc(t.label)}</text>`);
  let lx = m.l + 40 + o.title.length * 7.2;
  for (const s of o.series) {
    if (s.points.length) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    }
    parts.push(`<rect x="${lx}" y="9" width="12" height="4" fill="${s.color}"/><text x="${lx + 16}" y="15" class="ax">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}

export function table(headers: string[], rows: unknown[][], numeric = true): string {
  const cell = (v: unknown) => (typeof v === 'number' ? `<td class="n">${fmt(v)}</td>` : `<td>${esc(v ?? '')}</td>`);
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v) => (numeric ? cell(v) : `<td>${esc(v)}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.card{background:#fff;border:1px solid #dfe3ea;border-radius:8px;padding:14px 16px;margin:12px 0}
.big{font-size:44px;font-weight:700;letter-spacing:-1px}.muted{color:#667085}.ok{color:#0a7d38;font-weight:600}.bad{color:#b42318;font-weight:600}
.kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{flex:1;min-width:150px}.kpi b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eef0f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f1f3f7;font-weight:600}
svg .ct{font-weight:600;font-size:13px;fill:#1d2330}svg .ax{font-size:11px;fill:#667085}svg .grid{stroke:#eef0f4}svg .th{stroke:#b42318;stroke-dasharray:5 4}svg .thl{font-size:11px;fill:#b42318}
code{background:#eef0f4;padding:1px 4px;border-radius:3px}
</style></head><body><main>${body}</main></body></html>`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- renders the coordinator's result object
type Any = any;

/** The load section: figure, checks, charts, per-endpoint table, model coverage, profile. */
export function loadSection(r: Any): string {
  const ticks: Any[] = r.ticks ?? [];
  const proc: Any[] = r.proc_samples ?? [];
  const pts = (pick: (t: Any) => number, src: Any[] = ticks) => src.map((t) => [t.t, pick(t) ?? 0] as [number, number]);
  const checks = r.report_window?.checks;
  const w = checks?.window ?? {};
  const status = (ok: boolean) => (ok ? '<span class="ok">met</span>' : '<span class="bad">missed</span>');
  const rows = [
    ['average request time', `${fmt(w.mean ?? 0)} ms`, '≤ 100 ms', status((w.mean ?? 0) <= 100)],
    ['p99 request time', `${fmt(w.p99 ?? 0)} ms`, '≤ 2,000 ms', status((w.p99 ?? 0) <= 2000)],
    ['errors (5xx, network)', `${((w.error_rate ?? 0) * 100).toFixed(3)} % (${w.errors ?? 0})`, '≤ 0.025 %', status((w.error_rate ?? 0) <= 0.00025)],
    ['timeouts', `${((w.timeout_rate ?? 0) * 100).toFixed(3)} % (${w.timeouts ?? 0})`, '≤ 0.025 %', status((w.timeout_rate ?? 0) <= 0.00025)],
    ['server + PostgreSQL CPU', `${fmt(checks?.cpu_pct ?? 0)} % of ${r.machine?.cores} cores`, '≤ 85 %', status((checks?.cpu_pct ?? 0) <= 85)],
    ['server + PostgreSQL memory', `${fmt(checks?.memory_pct ?? 0)} %`, '≤ 85 %', status((checks?.memory_pct ?? 0) <= 85)],
  ];
  const out: string[] = [];
  out.push(`<div class="card"><div class="muted">${r.mode === 'fixed' ? 'Fixed load' : 'Supported users (ramp until a threshold fails)'}</div><div class="big">${Number(r.supported_users).toLocaleString('en')}</div><div>${esc(r.supported_note)}</div>
<div class="muted" style="margin-top:6px">${esc(r.caveat)} Load average before ${esc(r.load_average?.before?.join(' '))}, after ${esc(r.load_average?.after?.join(' '))}.</div></div>`);
  out.push(`<div class="card kpis"><div class="kpi"><span class="muted">data</span><b>${Number(r.data?.posts).toLocaleString('en')} posts</b>${Number(r.data?.users).toLocaleString('en')} users, ${r.data?.teams} teams, ${Number(r.data?.channels).toLocaleString('en')} channels</div>
<div class="kpi"><span class="muted">window reported</span><b>t=${r.report_window?.from_t}–${r.report_window?.to_t} s</b>${r.report_window?.mean_users} users on average, ${fmt(w.rps ?? 0)} req/s</div>
<div class="kpi"><span class="muted">model check</span><b>${r.model?.actions_per_user_per_minute} actions/user/min</b>${r.model?.posts_per_second_per_1000_users} posts/s per 1,000 users (model: 0.7 and 0.7)</div>
<div class="kpi"><span class="muted">post → posted (WebSocket)</span><b>p50 ${fmt(r.websocket?.posted_delivery_ms?.p50 ?? 0)} ms</b>p99 ${fmt(r.websocket?.posted_delivery_ms?.p99 ?? 0)} ms over ${Number(r.websocket?.posted_events_received ?? 0).toLocaleString('en')} deliveries</div></div>`);
  out.push(`<h2>Thresholds over the reported 1-minute window</h2><div class="card">${table(['check', 'measured', 'threshold', ''], rows, false).replace(/&lt;span class=&quot;(ok|bad)&quot;&gt;(met|missed)&lt;\/span&gt;/g, '<span class="$1">$2</span>')}</div>`);
  out.push('<h2>Over time</h2><div class="card">');
  out.push(lineChart({ title: 'Simulated users', series: [{ name: 'running', color: '#2563eb', points: pts((t) => t.users) }, { name: 'target', color: '#94a3b8', points: pts((t) => t.target), dashed: true }] }));
  out.push(lineChart({ title: 'Requests per second', series: [{ name: 'req/s', color: '#7c3aed', points: pts((t) => t.rps) }, { name: 'WebSocket frames/s ÷ 10', color: '#0891b2', points: pts((t) => t.frames_per_second / 10) }] }));
  out.push(lineChart({ title: 'Request time (per 2 s)', yUnit: ' ms', yMax: 2500, series: [{ name: 'mean', color: '#059669', points: pts((t) => t.mean) }, { name: 'p50', color: '#65a30d', points: pts((t) => t.p50) }, { name: 'p99', color: '#dc2626', points: pts((t) => t.p99) }], thresholds: [{ value: 100, label: 'mean ≤ 100 ms' }, { value: 2000, label: 'p99 ≤ 2 s' }] }));
  out.push(lineChart({ title: 'CPU (% of one core)', yUnit: '%', series: [{ name: 'server', color: '#2563eb', points: pts((s) => s.cpu.server, proc) }, { name: 'PostgreSQL', color: '#ea580c', points: pts((s) => s.cpu.postgres, proc) }, { name: 'load agents', color: '#94a3b8', points: pts((s) => s.cpu.agents, proc) }, { name: 'machine (all cores)', color: '#111827', points: pts((s) => (s.machine_cpu_pct * (r.machine?.cores ?? 1)), proc), dashed: true }], thresholds: [{ value: 85 * (r.machine?.cores ?? 1), label: '85 % of the machine (server + PostgreSQL)' }] }));
  out.push(lineChart({ title: 'Memory (MiB; PostgreSQL proportional)', yUnit: '', series: [{ name: 'server RSS', color: '#2563eb', points: pts((s) => s.rss_mib.server, proc) }, { name: 'PostgreSQL PSS', color: '#ea580c', points: pts((s) => s.rss_mib.postgres, proc) }, { name: 'agents RSS', color: '#94a3b8', points: pts((s) => s.rss_mib.agents, proc) }] }));
  out.push('</div>');
  out.push(`<h2>Per endpoint, over the reported window</h2><div class="card">${table(['endpoint', 'count', 'per s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'timeouts', '4xx'], (r.endpoints ?? []).map((e: Any) => [e.endpoint, e.count, e.per_second, e.mean, e.p50, e.p95, e.p99, e.max, e.errors, e.timeouts, e.client_errors]))}
<p class="muted">WS rows are WebSocket actions (statuses are polled over the socket: Custodian has no HTTP status endpoint); WS connect/reconnect are not part of the request-time thresholds.</p></div>`);
  const actions = r.model?.actions ?? {};
  const skipped = r.model?.skipped ?? {};
  out.push(`<h2>The user model here</h2><div class="card">${table(['action', 'weight', 'how', 'taken', 'skipped', 'note'], (r.model?.table ?? []).map((a: Any) => [a.name, a.weight, a.mapping, actions[a.name] ?? 0, skipped[a.name] ?? 0, a.note]))}</div>`);
  if (r.profile) {
    const p = r.profile;
    out.push(`<h2>Server CPU profile</h2><div class="card"><p>${esc(p.busy_seconds)} s busy of ${esc(p.seconds)} s profiled (main thread).</p>${table(['area', 'self ms', '% of busy'], p.by_area.slice(0, 15).map((a: Any) => [a.area, a.self_ms, a.pct_of_busy]))}<br>${table(['function (self)', 'ms', '%'], p.top_self.slice(0, 20).map((a: Any) => [a.fn, a.self_ms, a.pct_of_busy]))}<br>${table(['function (inclusive)', 'ms', '%'], p.top_inclusive.slice(0, 20).map((a: Any) => [a.fn, a.total_ms, a.pct_of_busy]))}</div>`);
  }
  if (r.error_samples?.length) out.push(`<h2>Error samples</h2><div class="card"><pre style="white-space:pre-wrap;font-size:12px">${esc(r.error_samples.join('\n'))}</pre></div>`);
  out.push(`<p class="muted">Options: <code>${esc(JSON.stringify(r.options))}</code>. Machine: ${esc(JSON.stringify(r.machine))}.</p>`);
  return out.join('\n');
}

export function renderLoadReport(r: Any): string {
  return page('Custodian load test', `<h1>Custodian load test</h1><div class="muted">Mattermost's user model and thresholds (load-model.md), one machine.</div>${loadSection(r)}`);
}
