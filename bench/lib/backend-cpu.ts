import fs from 'node:fs';
import type pg from 'pg';

/** utime + stime of a process in clock ticks (1/100 s), or undefined once it has exited. */
export function processTicks(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of the PostgreSQL backends of one application name (a background job's own
 * connection), sampled every 100 ms until stopped: on a shared machine its wall-clock rate is what
 * other work leaves over, its CPU time is not.
 */
export function sampleBackendCpu(client: pg.Client, applicationName: string): { stop(): Promise<number> } {
  const ticks = new Map<number, number>();
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      const pids = (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName])).rows.map((r) => Number(r.pid));
      for (const pid of pids) {
        const used = processTicks(pid);
        if (used !== undefined) ticks.set(pid, used);
      }
    });
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return Math.round([...ticks.values()].reduce((a, b) => a + b, 0)) / 100;
    },
  };
}
