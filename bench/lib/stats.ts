import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

/** Latency statistics over samples in milliseconds. */
export function summarize(samples: number[]): { count: number; mean: number; p50: number; p95: number; p99: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  const round = (n: number) => Math.round(n * 100) / 100;
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { count: sorted.length, mean: round(mean), p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN) };
}

/** The machine a figure was measured on, for the report. */
export function machine(): Record<string, unknown> {
  return { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
}

/** Milliseconds elapsed since `start` (from performance.now()). */
export const since = (start: number) => performance.now() - start;

/** Writes a benchmark's results to bench/results/<name>-<timestamp>.json and says where. */
export function writeResults(name: string, results: Record<string, unknown>): string {
  const outDir = path.join(import.meta.dirname, '..', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`results: ${file}`);
  return file;
}
