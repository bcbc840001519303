// Export batches are rendered on a worker thread at a lower CPU priority: reading the COPY stream,
// copying its bytes into zip chunks, hashing every entry and the zip, and signing are most of an
// export's CPU in this process, and on the main thread they held back live API requests (p99 of
// GET /channels/{id}/posts 2.4-3x its idle value while an export ran). On Linux nice is per thread,
// so the kernel gives this thread only the CPU the API leaves idle. The job itself (its row, the
// cursor, the commit order, delivery, audit) stays on the main thread: the worker only writes
// temporary zips, which the runner moves into the store and commits one after another, as before.
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import type { Knex } from 'knex';
import { openPurgeConnection } from '../../retention-jobs/retention/low-priority.ts';
import type { Config } from '../../server/config/schema.ts';
import { currentThreadId, moveToIdleScheduling } from '../../server/db/batch-scheduling.ts';
import { createKnex } from '../../server/db/connection.ts';
import type { PgTarget } from '../../server/db/targets.ts';
import { LocalFileStore } from '../../server/files/local-store.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { loadExportKey } from '../custody/keys.ts';
import { renderBatch, type BatchRequest, type RenderedBatch, type RenderEnvironment } from './batch-render.ts';

/** Nice value of the worker thread: below the API's 0, above the export's PostgreSQL backends' 19. */
const WORKER_NICE = 10;

/**
 * The worker's own heap: a batch's bytes pass through in 256 KiB chunks and COPY buffers (outside the
 * heap), so a small heap is enough, and the process's RSS stays within its budget.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

/** Batches are read on two connections, so PostgreSQL renders the next batch while this one is compressed and committed. */
const READERS = 2;

interface WorkerInit {
  complianceExportWorker: true;
  config: Config;
  /** The request pool's connection settings (password included): the worker opens its own low-priority connections. */
  connection: PgTarget;
  keyPaths: { key: string; cert: string };
}

type ToWorker = { kind: 'render'; request: BatchRequest };
type FromWorker = { kind: 'rendered'; seq: number; batch: RenderedBatch } | { kind: 'failed'; seq: number; message: string };

/** The request pool's connection settings, as plain data (knex keeps the password as a hidden property). */
function connectionOf(db: Knex): PgTarget {
  const connection = (db.client.config as Knex.Config).connection as Knex.PgConnectionConfig;
  return { ...connection, ...(connection.password === undefined ? {} : { password: connection.password }) } as PgTarget;
}

/** Renders the batches of one export job on a worker thread; terminated when the job stops, however it stops. */
export class ExportBatchWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, PromiseWithResolvers<RenderedBatch>>();
  private readonly signal: AbortSignal;
  private readonly onAbort = () => this.stop(this.signal.reason as Error);
  private failure: Error | undefined;
  /** Why the thread was ended on purpose (its batches fail with this once it is gone). */
  private stopped: Error | undefined;

  constructor(options: { config: Config; db: Knex; keyPaths: { key: string; cert: string }; signal: AbortSignal }) {
    const init: WorkerInit = { complianceExportWorker: true, config: options.config, connection: connectionOf(options.db), keyPaths: options.keyPaths };
    this.worker = new Worker(new URL(import.meta.url), { workerData: init, resourceLimits: WORKER_LIMITS });
    this.worker.on('message', (m: FromWorker) => {
      const waiting = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (m.kind === 'rendered') waiting?.resolve(m.batch);
      else waiting?.reject(new Error(m.message));
    });
    this.worker.on('error', (err) => this.fail(new Error(`the export worker thread failed: ${err.message}`)));
    // Batches fail only once the thread is gone, so nothing of theirs is written after the runner removes their temporary zips.
    this.worker.on('exit', (code) => this.fail(this.stopped ?? new Error(`the export worker thread exited (code ${code})`)));
    this.signal = options.signal;
    // A job told to stop waits for no batch: the thread ends at once, its transactions with it.
    this.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Renders a batch into `request.tempFile`; batches read their documents in the order they were asked for. */
  render(request: BatchRequest): Promise<RenderedBatch> {
    if (this.failure ?? this.stopped) return Promise.reject(this.failure ?? this.stopped);
    const result = Promise.withResolvers<RenderedBatch>();
    this.pending.set(request.seq, result);
    this.worker.postMessage({ kind: 'render', request } satisfies ToWorker);
    return result.promise;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }

  private stop(err: Error): void {
    this.stopped ??= err;
    void this.worker.terminate();
  }

  /** Ends the thread (and any batch it still renders). */
  async close(): Promise<void> {
    this.signal.removeEventListener('abort', this.onAbort);
    this.stopped ??= new Error('the export worker thread was closed');
    await this.worker.terminate();
  }
}

/** Lowers this thread's scheduling priority (Linux: nice applies to the thread whose id is given). */
function lowerThreadPriority(): void {
  try {
    const tid = currentThreadId();
    // Where chrt exists, below every normal and batch task, so a woken API thread or backend never waits
    // for it; the nice value is for where it does not.
    moveToIdleScheduling(tid);
    os.setPriority(tid, WORKER_NICE);
  } catch {
    // No /proc (not Linux) or not permitted: the thread runs at the process's priority.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function serve(port: MessagePort, init: WorkerInit): void {
  lowerThreadPriority();
  const { config } = init;
  const template = createKnex(init.connection, 1, 'custodian-export');
  const logger = createLogger(config.logLevel);
  const readers = Array.from({ length: READERS }, () => openPurgeConnection(template, logger, 'custodian-export'));
  const env: RenderEnvironment = {
    config,
    // Where uploaded files live, as the server's services have it.
    files: new LocalFileStore(path.join(config.dataDir, 'files')),
    key: loadExportKey(init.keyPaths),
    pause: () => (config.exportStepDelayMs ? sleep(config.exportStepDelayMs) : Promise.resolve()),
  };
  let previousRead = Promise.resolve();
  port.on('message', ({ request }: ToWorker) => {
    const read = Promise.withResolvers<void>();
    const turn = previousRead;
    previousRead = read.promise;
    renderBatch(env, readers[request.seq % READERS].db, request, turn, () => read.resolve()).then(
      (batch) => port.postMessage({ kind: 'rendered', seq: request.seq, batch } satisfies FromWorker),
      (err: unknown) => {
        // However it ends, the next batch's turn to read comes.
        read.resolve();
        port.postMessage({ kind: 'failed', seq: request.seq, message: (err as Error)?.message ?? String(err) } satisfies FromWorker);
      },
    );
  });
}

if (!isMainThread && parentPort && (workerData as Partial<WorkerInit> | null)?.complianceExportWorker) serve(parentPort, workerData as WorkerInit);
