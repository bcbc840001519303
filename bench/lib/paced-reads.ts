// Paced GET load with a timestamp on every request, so latency can be judged over exactly the time a
// background job ran (wrk reports one distribution for its whole run, which a job shorter than the run
// dilutes with the quiet after it). Each connection sends a request, waits for the answer, then thinks
// for `delayMs`: the same model as wrk's `delay` hook, clients with think time rather than a stress test.
// It runs on a worker thread, so the benchmark's own polling never delays a request's timing.
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { summarize } from './stats.ts';

export interface ReadSample {
  /** Wall-clock time the request was sent (epoch ms). */
  at: number;
  ms: number;
  ok: boolean;
}

interface ReaderOptions {
  url: string;
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  delayMs: number;
}

/** Starts the readers; `stop()` ends them and returns every request's sample. */
export function startPacedReads(options: ReaderOptions): { stop(): Promise<ReadSample[]> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: { pacedReads: true, ...options } });
  const samples = new Promise<ReadSample[]>((resolve, reject) => {
    worker.once('message', (m: ReadSample[]) => resolve(m));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const result = await samples;
      await worker.terminate();
      return result;
    },
  };
}

/** Runs the readers for `seconds`. */
export async function pacedReadsFor(options: ReaderOptions, seconds: number): Promise<ReadSample[]> {
  const readers = startPacedReads(options);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return readers.stop();
}

/** Latency statistics of the samples sent within [from, to] (epoch ms), with their rate and errors. */
export function readStats(samples: ReadSample[], from = -Infinity, to = Infinity) {
  const within = samples.filter((s) => s.at >= from && s.at <= to);
  const span = within.length ? (Math.max(...within.map((s) => s.at)) - Math.min(...within.map((s) => s.at))) / 1000 : 0;
  return { ...summarize(within.map((s) => s.ms)), rps: span > 0 ? Math.round(within.length / span) : 0, errors: within.filter((s) => !s.ok).length };
}

async function run(options: ReaderOptions): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const samples: ReadSample[] = [];
  let stopping = false;
  parentPort!.once('message', () => (stopping = true));
  let next = 0;
  const get = (path: string) =>
    new Promise<boolean>((resolve) => {
      const req = http.get(`${options.url}${path}`, { agent, headers: options.headers }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode === 200));
        res.once('error', () => resolve(false));
      });
      req.once('error', () => resolve(false));
    });
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (!stopping) {
        const path = options.paths[next++ % options.paths.length];
        const at = Date.now();
        const started = performance.now();
        const ok = await get(path);
        samples.push({ at, ms: Math.round((performance.now() - started) * 100) / 100, ok });
        await new Promise((r) => setTimeout(r, options.delayMs));
      }
    }),
  );
  agent.destroy();
  parentPort!.postMessage(samples);
}

if (!isMainThread && (workerData as { pacedReads?: boolean } | null)?.pacedReads) void run(workerData as ReaderOptions);
