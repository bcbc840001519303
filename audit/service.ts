// The audit log's background work in a server process: sealing queued records into the chain right
// after their transactions commit, signing checkpoints every N records or M minutes (decided from the
// database, so restarts and several nodes agree), keeping the checkpoint file in step, and streaming
// to the configured sinks. Requests only ever insert into the outbox.
import path from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from '../server/lib/logger.ts';
import { checkpointFilePath, createCheckpoint, lastCheckpoint, syncCheckpointFile } from './checkpoints.ts';
import { AuditKeyDir, currentSigningKey, registerKey, type SigningKey } from './keys.ts';
import { sealAll, sealPending } from './sealer.ts';
import { onAuditCommitted, recordAudit } from './store.ts';
import { drainCheckpoints, drainRecords, RotatingFileSink, streamedRecord, SyslogSink, type AuditSink, type StreamedRecord } from './stream.ts';

export interface AuditServiceOptions {
  db: Knex;
  logger: Logger;
  dataDir: string;
  nodeId: string;
  checkpointEveryRecords: number;
  checkpointEveryMinutes: number;
  streamFile: boolean;
  streamMaxBytes: number;
  streamMaxFiles: number;
  syslogUrl?: string;
  syslogCaFile?: string;
}

const SEAL_BATCH = 5000;
const IDLE_POLL_MS = 250;
// After a wake-up, wait this long for more commits, so a burst is sealed (and streamed) in one
// transaction instead of one per record: per-batch costs (a COMMIT, an fdatasync) dominate otherwise.
const SEAL_COALESCE_MS = 20;
const STREAM_COALESCE_MS = 200;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loop that sleeps until woken or for `ms`; a nudge while awake makes the next sleep return at once. */
class Waker {
  private wake?: () => void;
  private pending = false;

  nudge(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

export class AuditService {
  readonly keys: AuditKeyDir;
  readonly checkpointFile: string;
  private readonly options: AuditServiceOptions;
  private readonly sinks: AuditSink[] = [];
  private readonly sealWaker = new Waker();
  private readonly streamWaker = new Waker();
  private stopping = false;
  private loops: Promise<void>[] = [];
  private unsubscribe?: () => void;
  private lastCheckpointEnd = 0;
  private lastCheckpointAt = 0;
  private checkpointing?: Promise<void>;
  /** Records this process sealed and the streams have not all delivered yet (consecutive). */
  private recent: StreamedRecord[] = [];

  constructor(options: AuditServiceOptions) {
    this.options = options;
    this.keys = new AuditKeyDir(options.dataDir);
    this.checkpointFile = checkpointFilePath(options.dataDir);
    if (options.streamFile) this.sinks.push(new RotatingFileSink(path.join(options.dataDir, 'audit', 'stream'), { maxBytes: options.streamMaxBytes, maxFiles: options.streamMaxFiles }));
    if (options.syslogUrl) this.sinks.push(new SyslogSink({ url: options.syslogUrl, caFile: options.syslogCaFile, hostname: options.nodeId }));
  }

  /** Generates the signing key on first start, repairs the checkpoint file, starts the loops. */
  async start(): Promise<void> {
    await this.ensureSigningKey();
    await syncCheckpointFile(this.options.db, this.checkpointFile);
    const last = await lastCheckpoint(this.options.db);
    this.lastCheckpointEnd = last?.body.seq_end ?? 0;
    this.lastCheckpointAt = last?.body.created_at ?? Date.now();
    this.unsubscribe = onAuditCommitted(() => this.sealWaker.nudge());
    this.loops = [this.sealLoop(), this.streamLoop()];
  }

  private async ensureSigningKey(): Promise<SigningKey> {
    const { db, nodeId } = this.options;
    return db.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['custodian.audit.keys']);
      const current = await currentSigningKey(trx, this.keys);
      if (current) return current;
      const key = this.keys.generate();
      await registerKey(trx, key);
      await recordAudit(trx, {
        event_name: 'create_audit_key', status: 'success', actor: { user_agent: 'custodian' }, meta: { api_path: 'server:start', node_id: nodeId },
        event: { object_type: 'audit_key', resulting_state: { key_id: key.keyId } },
      });
      this.options.logger.info({ key_id: key.keyId, dir: this.keys.dir }, 'generated the audit signing key');
      return key;
    });
  }

  private async sealLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const { sealed, head, rows } = await sealPending(this.options.db, SEAL_BATCH);
        if (sealed) {
          this.keepForStreams(rows.map((r) => streamedRecord(r.seq, r.record, r.hash)));
          this.streamWaker.nudge();
        }
        const dueByCount = head.seq - this.lastCheckpointEnd >= this.options.checkpointEveryRecords;
        const dueByTime = head.seq > this.lastCheckpointEnd && Date.now() - this.lastCheckpointAt >= this.options.checkpointEveryMinutes * 60_000;
        if (dueByCount || dueByTime) await this.checkpoint();
        if (sealed === SEAL_BATCH) continue;
      } catch (err) {
        this.options.logger.error({ err }, 'audit sealing failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
      await this.sealWaker.sleep(IDLE_POLL_MS);
      await delay(SEAL_COALESCE_MS);
    }
  }

  private async streamLoop(): Promise<void> {
    while (!this.stopping) {
      await this.drain();
      await this.streamWaker.sleep(1000);
      await delay(STREAM_COALESCE_MS);
    }
  }

  private keepForStreams(records: StreamedRecord[]): void {
    if (!this.sinks.length) return;
    const last = this.recent[this.recent.length - 1];
    // Another node sealed in between, or the streams fell far behind: the gap is read from the database.
    if (!last || last.seq + 1 !== records[0].seq || this.recent.length > 50_000) this.recent = records;
    else this.recent.push(...records);
  }

  /** Delivers to each sink from its cursor; a sink that is down only delays itself. */
  private async drain(): Promise<void> {
    const { db, nodeId, logger } = this.options;
    const recent = this.recent;
    let delivered = Number.MAX_SAFE_INTEGER;
    for (const sink of this.sinks) {
      try {
        delivered = Math.min(delivered, await drainRecords(db, sink, `${sink.name}:${nodeId}`, recent));
        await drainCheckpoints(db, sink, `${sink.name}-checkpoints:${nodeId}`);
      } catch (err) {
        delivered = 0;
        logger.warn({ err, sink: sink.name }, 'audit streaming failed; will retry from the cursor');
      }
    }
    // Keep only what some sink still needs.
    if (this.recent === recent && recent.length && delivered >= recent[0].seq) this.recent = recent.slice(Math.min(recent.length, delivered - recent[0].seq + 1));
  }

  /**
   * Signs checkpoints up to the current head (one per N records) and appends them to the checkpoint
   * file. One at a time; a caller arriving while one runs waits, then runs its own (which sees the
   * records sealed in between).
   */
  async checkpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing.catch(() => {});
    this.checkpointing = (async () => {
      try {
        const { db, nodeId, checkpointEveryRecords } = this.options;
        const key = await currentSigningKey(db, this.keys);
        if (!key) throw new Error('no audit signing key');
        for (;;) {
          const made = await createCheckpoint(db, key, { nodeId, maxRecords: checkpointEveryRecords });
          if (!made) break;
          this.lastCheckpointEnd = made.body.seq_end;
          this.lastCheckpointAt = made.body.created_at;
        }
        const last = await lastCheckpoint(db);
        if (last) {
          this.lastCheckpointEnd = last.body.seq_end;
          this.lastCheckpointAt = Math.max(this.lastCheckpointAt, last.body.created_at);
        }
        await syncCheckpointFile(db, this.checkpointFile);
        this.streamWaker.nudge();
      } finally {
        this.checkpointing = undefined;
      }
    })();
    return this.checkpointing;
  }

  /** Chains every committed record now (tests and `GET /audits` call this before reading). */
  async flush(): Promise<void> {
    await sealAll(this.options.db);
  }

  /** Seals, checkpoints and streams everything now. */
  async sync(): Promise<void> {
    await this.flush();
    await this.checkpoint();
    await this.drain();
  }

  /** Stops the loops, then seals, signs a final checkpoint and streams what is left (clean shutdown). */
  async close(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.sealWaker.nudge();
    this.streamWaker.nudge();
    await Promise.all(this.loops);
    try {
      await this.sync();
    } catch (err) {
      this.options.logger.error({ err }, 'final audit checkpoint failed');
    }
    for (const sink of this.sinks) await sink.close().catch(() => {});
  }
}
