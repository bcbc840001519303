import { summarize } from './stats.ts';

/**
 * Runs `concurrency` closed-loop workers calling `request` until `durationMs` has passed (bounded in
 * time and count), returning latency statistics and the error count.
 */
export async function closedLoop(concurrency: number, durationMs: number, request: (worker: number, i: number) => Promise<boolean>, maxRequests = 2_000_000) {
  const samples: number[] = [];
  let errors = 0;
  let issued = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end && issued < maxRequests) {
        const i = issued++;
        const start = performance.now();
        let ok: boolean;
        try {
          ok = await request(worker, i);
        } catch {
          ok = false;
        }
        samples.push(performance.now() - start);
        if (!ok) errors++;
      }
    }),
  );
  return { ...summarize(samples), errors, rps: Math.round(samples.length / (durationMs / 1000)) };
}
