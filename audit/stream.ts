// Streaming sealed records (and checkpoints) out of the database: to a JSON Lines file with rotation
// and to syslog (RFC 5424 over TCP, RFC 6587 octet counting, optionally TLS). Each sink keeps a cursor
// in audit_stream_cursors that advances only after a batch was written, so delivery is at least once
// (a crash between the write and the cursor update repeats that batch). Runs after commit, in the
// background: requests never wait for a sink.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Knex } from 'knex';
import { ensureDir } from '../server/lib/fs.ts';
import { checkpointFromText, checkpointLine, type Checkpoint } from './checkpoints.ts';

export interface StreamedRecord {
  seq: number;
  /** `{"hash":…,"record":…}`: the record's canonical JSON with its chain hash. */
  line: string;
  failed: boolean;
  eventName: string;
}

export interface AuditSink {
  readonly name: string;
  writeRecords(records: StreamedRecord[]): Promise<void>;
  writeCheckpoints?(checkpoints: Checkpoint[]): Promise<void>;
  close(): Promise<void>;
}

/** JSON Lines file `<dir>/audit.jsonl`, renamed to `audit-<time>.jsonl` past `maxBytes`; keeps `maxFiles` old files. */
export class RotatingFileSink implements AuditSink {
  readonly name = 'file';
  readonly file: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;

  constructor(dir: string, options: { maxBytes: number; maxFiles: number }) {
    this.dir = dir;
    this.file = path.join(dir, 'audit.jsonl');
    this.maxBytes = options.maxBytes;
    this.maxFiles = options.maxFiles;
  }

  private rotate(): void {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    fs.renameSync(this.file, path.join(this.dir, `audit-${stamp}.jsonl`));
    const old = fs.readdirSync(this.dir).filter((f) => /^audit-.+\.jsonl$/.test(f)).sort();
    for (const f of old.slice(0, Math.max(0, old.length - this.maxFiles))) fs.rmSync(path.join(this.dir, f), { force: true });
  }

  async writeRecords(records: StreamedRecord[]): Promise<void> {
    ensureDir(this.dir, 0o700);
    const data = Buffer.from(records.map((r) => r.line + '\n').join(''));
    const size = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
    if (size > 0 && size + data.length > this.maxBytes) this.rotate();
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, data);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  async close(): Promise<void> {}
}

// RFC 5424: facility 13 (log audit); severity 5 (notice), 4 (warning) for failed or denied actions.
const FACILITY = 13;
const BOM = '\u{FEFF}';
const sdValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);

/** An RFC 5424 message with RFC 6587 octet-counting framing. */
export function syslogFrame(options: { severity: number; hostname: string; msgid: string; sd: Record<string, string>; msg: string; time?: Date }): Buffer {
  const pri = FACILITY * 8 + options.severity;
  const sd = `[custodian@32473 ${Object.entries(options.sd).map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  const message = Buffer.from(`<${pri}>1 ${(options.time ?? new Date()).toISOString()} ${options.hostname || '-'} custodian ${process.pid} ${options.msgid} ${sd} ${BOM}${options.msg}`);
  return Buffer.concat([Buffer.from(`${message.length} `), message]);
}

/** Syslog over TCP (`tcp://host:port`) or TLS (`tls://host:port`, server certificate verified). */
export class SyslogSink implements AuditSink {
  readonly name = 'syslog';
  private readonly url: URL;
  private readonly ca?: Buffer;
  private readonly hostname: string;
  private socket?: net.Socket;

  constructor(options: { url: string; caFile?: string; hostname: string }) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'tcp:' && this.url.protocol !== 'tls:') throw new Error('the syslog URL must be tcp://host:port or tls://host:port');
    this.ca = options.caFile ? fs.readFileSync(options.caFile) : undefined;
    this.hostname = options.hostname;
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    const host = this.url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(this.url.port || (this.url.protocol === 'tls:' ? 6514 : 514));
    return new Promise((resolve, reject) => {
      const socket = this.url.protocol === 'tls:' ? tls.connect({ host, port, ca: this.ca, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
      const ready = this.url.protocol === 'tls:' ? 'secureConnect' : 'connect';
      socket.setTimeout(10_000);
      socket.once('timeout', () => socket.destroy(new Error('syslog connection timed out')));
      socket.once('error', reject);
      socket.once(ready, () => {
        socket.off('error', reject);
        socket.on('error', () => socket.destroy());
        socket.on('data', () => {}); // RFC 5425 receivers send nothing; ignore anything.
        this.socket = socket;
        resolve(socket);
      });
    });
  }

  private async send(frames: Buffer[]): Promise<void> {
    const socket = await this.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        const closed = () => reject(new Error('syslog connection closed'));
        socket.once('close', closed);
        socket.write(Buffer.concat(frames), (err) => {
          socket.off('close', closed);
          if (err) reject(err);
          else resolve();
        });
      });
    } catch (err) {
      socket.destroy();
      throw err;
    }
  }

  async writeRecords(records: StreamedRecord[]): Promise<void> {
    await this.send(records.map((r) => syslogFrame({ severity: r.failed ? 4 : 5, hostname: this.hostname, msgid: 'audit', sd: { seq: String(r.seq), event: r.eventName }, msg: r.line })));
  }

  async writeCheckpoints(checkpoints: Checkpoint[]): Promise<void> {
    await this.send(checkpoints.map((c) => syslogFrame({ severity: 5, hostname: this.hostname, msgid: 'checkpoint', sd: { number: String(c.body.number), seq_end: String(c.body.seq_end) }, msg: checkpointLine(c) })));
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) await new Promise<void>((resolve) => socket.end(() => resolve()));
  }
}

/**
 * A stream line from a sealed record's canonical text. The top-level "event_name" and "status" are the
 * last members of those names (later top-level members hold no such keys, and quotes inside strings
 * are escaped), so no parsing is needed.
 */
export function streamedRecord(seq: number, record: string, hashHex: string): StreamedRecord {
  const at = record.lastIndexOf(',"event_name":"') + 15;
  return {
    seq,
    line: `{"hash":"${hashHex}","record":${record}}`,
    failed: record.lastIndexOf(',"status":"fail"') > record.lastIndexOf(',"seq":'),
    eventName: at >= 15 ? record.slice(at, record.indexOf('"', at)) : '',
  };
}

async function cursor(db: Knex, sink: string): Promise<number> {
  await db('audit_stream_cursors').insert({ sink, last_seq: 0, updated_at: Date.now() }).onConflict('sink').ignore();
  return Number((await db('audit_stream_cursors').where({ sink }).first('last_seq')).last_seq);
}

async function advance(db: Knex, sink: string, to: number): Promise<void> {
  await db('audit_stream_cursors').where({ sink }).update({ last_seq: to, updated_at: Date.now() });
}

/**
 * Delivers records sealed since the sink's cursor, a batch at a time; returns the last sequence number
 * delivered. `recent` (consecutive records this process just sealed) spares reading them back.
 */
export async function drainRecords(db: Knex, sink: AuditSink, cursorName: string, recent: readonly StreamedRecord[] = [], batch = 2000): Promise<number> {
  for (;;) {
    const after = await cursor(db, cursorName);
    if (recent.length && recent[0].seq <= after + 1 && recent[recent.length - 1].seq > after) {
      const records = recent.slice(after + 1 - recent[0].seq, after + 1 - recent[0].seq + batch);
      await sink.writeRecords(records);
      await advance(db, cursorName, records[records.length - 1].seq);
      continue;
    }
    const rows = (await db.raw("SELECT seq, record, encode(hash, 'hex') AS hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", [after, batch])).rows as { seq: number; record: string; hash: string }[];
    if (!rows.length) return after;
    await sink.writeRecords(rows.map((r) => streamedRecord(Number(r.seq), r.record, r.hash)));
    const last = Number(rows[rows.length - 1].seq);
    await advance(db, cursorName, last);
    if (rows.length < batch) return last;
  }
}

/** Delivers checkpoints made since the sink's cursor (by checkpoint number). */
export async function drainCheckpoints(db: Knex, sink: AuditSink, cursorName: string): Promise<number> {
  if (!sink.writeCheckpoints) return 0;
  const after = await cursor(db, cursorName);
  const rows = await db('audit_checkpoints').where('number', '>', after).orderBy('number').limit(1000).select('number', 'body', 'signature');
  if (!rows.length) return 0;
  await sink.writeCheckpoints(rows.map((r: { body: string; signature: string }) => checkpointFromText(r.body, r.signature)));
  await advance(db, cursorName, Number(rows[rows.length - 1].number));
  return rows.length;
}
