import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function wrkAvailable(): boolean {
  return fs.existsSync('/usr/bin/wrk');
}

/** Parses wrk's --latency output into milliseconds. */
function parse(out: string): Record<string, number> {
  const ms = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 } as Record<string, number>)[unit];
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m ? Math.round(ms(m[1], m[2]) * 100) / 100 : NaN;
  };
  const avg = /Latency\s+([\d.]+)(us|ms|s)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    mean: avg ? Math.round(ms(avg[1], avg[2]) * 100) / 100 : NaN,
    p50: pct('50'), p75: pct('75'), p90: pct('90'), p99: pct('99'),
    rps: rps ? Math.round(Number(rps[1])) : NaN,
    errors: (errors ? Number(errors[1]) : 0) + (socketErrors ? socketErrors.slice(1).reduce((s, v) => s + Number(v), 0) : 0),
  };
}

/**
 * Drives GET requests with wrk (a C load generator: far cheaper than a Node client, so the 2 cores go to
 * the server and PostgreSQL). Paths rotate through `paths`; bounded by duration.
 */
/** `delayMs` > 0 makes each connection pause between requests (clients with think time, not a stress test). */
export async function wrkGet(baseUrl: string, paths: string[], headers: Record<string, string>, connections: number, seconds: number, delayMs = 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-wrk-'));
  const script = path.join(dir, 'paths.lua');
  const headerLines = Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n');
  fs.writeFileSync(script, `${headerLines}\nlocal paths = {${paths.map((p) => JSON.stringify(p)).join(',')}}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n${delayMs > 0 ? `delay = function()\n  return ${delayMs}\nend\n` : ''}`);
  try {
    const { stdout } = await run('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, baseUrl], { maxBuffer: 1 << 20 });
    return parse(stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
