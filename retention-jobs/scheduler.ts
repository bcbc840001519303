import type { Services } from '../server/services.ts';
import type { JobTypeDefinition } from './model.ts';
import { parseSchedule } from './schedule.ts';
import { DB_NOW_MS, dbNowMs, hasActiveJob, insertJob } from './store.ts';

/** Longest sleep between looks at the schedule table (a schedule changed by another node is seen by then). */
const MAX_SLEEP_MS = 60_000;

/**
 * Creates the due runs of recurring job types. The next run of each type is a row of job_schedules,
 * so a restart keeps the clock; a due row is claimed with FOR UPDATE SKIP LOCKED and moved to its
 * next run in the same transaction that creates the job, so several schedulers never double up. A
 * run that finds the previous one still pending or running is skipped.
 */
export class JobScheduler {
  private readonly services: Services;
  private readonly types: Map<string, JobTypeDefinition>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private ticking?: Promise<unknown>;

  constructor(services: Services, types: Iterable<JobTypeDefinition>) {
    this.services = services;
    this.types = new Map([...types].map((t) => [t.type, t]));
  }

  /** Writes this configuration's schedules (a changed schedule gets a new next run), then starts ticking. */
  async start(): Promise<void> {
    await this.syncSchedules();
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  /** Makes job_schedules match the configuration; throws on an unreadable schedule. */
  async syncSchedules(): Promise<void> {
    const { db, config } = this.services;
    const now = await dbNowMs(db);
    for (const definition of this.types.values()) {
      const text = definition.schedule?.(config);
      if (!text) {
        await db('job_schedules').where({ type: definition.type }).delete();
        continue;
      }
      const schedule = parseSchedule(text);
      await db.raw(
        `INSERT INTO job_schedules (type, spec, next_run_at, update_at) VALUES (:type, :spec, :next, :now)
         ON CONFLICT (type) DO UPDATE SET spec = EXCLUDED.spec, update_at = EXCLUDED.update_at,
           next_run_at = CASE WHEN job_schedules.spec = EXCLUDED.spec THEN job_schedules.next_run_at ELSE EXCLUDED.next_run_at END`,
        { type: definition.type, spec: schedule.spec, next: schedule.next(now), now },
      );
    }
  }

  /** Creates the runs that are due; returns the ids of the jobs created. */
  async tick(): Promise<string[]> {
    const { db } = this.services;
    const created: string[] = [];
    await db.transaction(async (trx) => {
      const due = (await trx('job_schedules').where('next_run_at', '<=', trx.raw(DB_NOW_MS)).whereIn('type', [...this.types.keys()]).forUpdate().skipLocked()) as {
        type: string;
        spec: string;
      }[];
      for (const row of due) {
        const definition = this.types.get(row.type)!;
        const now = await dbNowMs(trx);
        let jobId = '';
        if (await hasActiveJob(trx, row.type)) {
          this.services.logger.warn({ job_type: row.type }, 'skipping a scheduled run: the previous run has not finished');
        } else {
          const data = { ...(await definition.prepare?.({}, this.services)), trigger: 'schedule' };
          const job = await insertJob(trx, { type: row.type, data });
          await definition.onCreated?.(trx, job, undefined, this.services.logger);
          jobId = job.id;
          created.push(jobId);
        }
        await trx('job_schedules').where({ type: row.type }).update({ next_run_at: parseSchedule(row.spec).next(now), last_run_at: now, last_job_id: jobId, update_at: now });
      }
    });
    return created;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((err) => this.services.logger.error({ err }, 'job scheduler tick failed'))
        .then(() => this.untilNextRun())
        .then((ms) => this.arm(ms), () => this.arm(MAX_SLEEP_MS));
    }, delayMs);
  }

  private async untilNextRun(): Promise<number> {
    const { db } = this.services;
    const row = await db('job_schedules').whereIn('type', [...this.types.keys()]).min('next_run_at as next').first();
    const next = row?.next === null || row?.next === undefined ? undefined : Number(row.next);
    if (next === undefined) return MAX_SLEEP_MS;
    return Math.max(250, Math.min(MAX_SLEEP_MS, next - (await dbNowMs(db))));
  }
}
