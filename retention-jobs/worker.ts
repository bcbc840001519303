import type { Knex } from 'knex';
import type { Services } from '../server/services.ts';
import type { JobContext, JobRow, JobTypeDefinition, JobUpdate, StopReason } from './model.ts';
import { claimJob, finishJob, JOBS_CHANNEL, LeaseLostError, releaseJob, renewLease } from './store.ts';

/** The error a stopped job's signal carries. */
export class JobStoppedError extends Error {
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(`job stopped: ${reason}`);
    this.reason = reason;
  }
}

export interface WorkerOptions {
  leaseMs: number;
  /** How often to look for work when no notification arrives. */
  pollMs?: number;
  /** Jobs run at once by this process (never two of one type: the database forbids it). */
  concurrency?: number;
  /** Only these job ids (the CLI runs its own job in-process). */
  onlyJobIds?: ReadonlySet<string>;
}

interface RawPgClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: () => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
}

interface RawConnectionPool {
  acquireRawConnection(): Promise<RawPgClient>;
  destroyRawConnection(connection: RawPgClient): Promise<void>;
}

/**
 * Runs jobs: claims them from the jobs table (see `claimJob`), renews each claim while the handler
 * works, and records how it ended. A job whose worker dies is taken over by another worker once its
 * lease expires, and resumes from the state its last checkpoint saved.
 */
export class JobWorker {
  private readonly services: Services;
  private readonly types: Map<string, JobTypeDefinition>;
  private readonly options: Required<Omit<WorkerOptions, 'onlyJobIds'>> & Pick<WorkerOptions, 'onlyJobIds'>;
  private readonly running = new Map<string, { stop(reason: StopReason): void; done: Promise<void> }>();
  private stopped = false;
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private listener?: RawPgClient;

  constructor(services: Services, types: Iterable<JobTypeDefinition>, options: WorkerOptions) {
    this.services = services;
    this.types = new Map([...types].map((t) => [t.type, t]));
    this.options = { pollMs: 5000, concurrency: 2, ...options };
  }

  start(): void {
    this.loop = this.claimLoop();
    void this.listen();
  }

  /** Looks for work now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming, tells running jobs to stop, waits for them and gives their leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    for (const job of this.running.values()) job.stop('shutdown');
    await this.loop;
    await Promise.all([...this.running.values()].map((j) => j.done));
    if (this.listener) {
      const pool = this.services.db.client as unknown as RawConnectionPool;
      await pool.destroyRawConnection(this.listener).catch(() => undefined);
      this.listener = undefined;
    }
  }

  private async claimLoop(): Promise<void> {
    while (!this.stopped) {
      let claimed: JobRow | undefined;
      if (this.running.size < this.options.concurrency) {
        try {
          claimed = await claimJob(this.services.db, { types: [...this.types.keys()], nodeId: this.services.config.nodeId, leaseMs: this.options.leaseMs });
          if (claimed && this.options.onlyJobIds && !this.options.onlyJobIds.has(claimed.id)) {
            await releaseJob(this.services.db, claimed.id, claimed.lease_token!);
            claimed = undefined;
          }
        } catch (err) {
          this.services.logger.error({ err }, 'could not claim a job');
        }
      }
      if (claimed) {
        this.execute(claimed);
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  /** LISTEN for new jobs on a connection of its own; polling covers the time it is down. */
  private async listen(): Promise<void> {
    const pool = this.services.db.client as unknown as RawConnectionPool;
    try {
      const client = await pool.acquireRawConnection();
      if (this.stopped) {
        await pool.destroyRawConnection(client);
        return;
      }
      this.listener = client;
      client.on('notification', () => this.wake());
      client.on('error', (err) => {
        this.services.logger.warn({ err }, 'job notification connection failed; polling until it is back');
        if (this.listener === client) this.listener = undefined;
        void pool.destroyRawConnection(client).catch(() => undefined);
        if (!this.stopped) setTimeout(() => void this.listen(), this.options.pollMs).unref();
      });
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
    } catch (err) {
      this.services.logger.warn({ err }, 'cannot listen for job notifications; polling');
    }
  }

  private execute(job: JobRow): void {
    const definition = this.types.get(job.type)!;
    const token = job.lease_token!;
    const { db, logger } = this.services;
    const leaseMs = this.options.leaseMs;
    const controller = new AbortController();
    let reason: StopReason | undefined;
    const stop = (why: StopReason) => {
      if (reason) return;
      reason = why;
      controller.abort(new JobStoppedError(why));
    };
    const log = logger.child({ job_id: job.id, job_type: job.type });

    const heartbeat = setInterval(() => {
      renewLease(db, job.id, token, leaseMs).then(
        (status) => {
          if (status === 'cancel_requested') stop('cancel');
        },
        (err) => {
          if (err instanceof LeaseLostError) stop('lease_lost');
          else log.warn({ err }, 'could not renew the job lease');
        },
      );
    }, Math.max(500, Math.floor(leaseMs / 3)));

    const ctx: JobContext = {
      job,
      services: this.services,
      signal: controller.signal,
      throwIfStopped: () => controller.signal.throwIfAborted(),
      async checkpoint<T>(update: JobUpdate, work?: (trx: Knex.Transaction) => Promise<T>, options?: { db?: Knex }): Promise<T | undefined> {
        controller.signal.throwIfAborted();
        try {
          const { result, status } = await (options?.db ?? db).transaction(async (trx) => {
            // The fence: locks the job row and fails unless this worker still holds the lease.
            const status = await renewLease(trx, job.id, token, leaseMs, update);
            return { result: work ? await work(trx) : undefined, status };
          });
          if (status === 'cancel_requested') stop('cancel');
          // What was just committed stays; a job told to stop goes no further.
          controller.signal.throwIfAborted();
          return result;
        } catch (err) {
          if (err instanceof LeaseLostError) stop('lease_lost');
          throw err;
        }
      },
    };

    const done = (async () => {
      if (job.status === 'cancel_requested') {
        await finishJob(db, job.id, token, 'canceled');
        return;
      }
      log.info({ attempt: job.attempts }, job.attempts > 1 ? 'resuming job' : 'starting job');
      try {
        const outcome = await definition.run(ctx);
        if (!(await finishJob(db, job.id, token, outcome.status, outcome.data))) log.warn('job finished after its lease was lost; its result was not recorded');
        else log.info({ status: outcome.status }, 'job finished');
      } catch (err) {
        if (reason === 'cancel') {
          await finishJob(db, job.id, token, 'canceled');
          log.info('job canceled');
        } else if (reason === 'shutdown') {
          await releaseJob(db, job.id, token);
          log.info('job released for another worker (shutdown)');
        } else if (reason === 'lease_lost') {
          log.warn('job stopped: another worker took it over');
        } else {
          log.error({ err }, 'job failed');
          await finishJob(db, job.id, token, 'error', { error: (err as Error)?.message ?? String(err) });
        }
      }
    })()
      .catch((err) => log.error({ err }, 'could not record the end of a job'))
      .finally(() => {
        clearInterval(heartbeat);
        this.running.delete(job.id);
        this.wake();
      });
    this.running.set(job.id, { stop, done });
  }
}
