// Signed checkpoints: every N records or M minutes (and at shutdown, and at key rotation) the chain
// head, the sequence range since the previous checkpoint and the RFC 6962 Merkle root of that range's
// chain hashes are signed with the audit key. Each checkpoint also names the SHA-256 of the previous
// checkpoint's body, so checkpoints form a chain of their own. They are stored in the database and
// appended to <dataDir>/audit/checkpoints.jsonl (fsynced), outside the database's reach.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { ensureDir } from '../server/lib/fs.ts';
import { canonicalJson } from './canonical.ts';
import { signText, type PublicAuditKey, type SigningKey } from './keys.ts';
import { MerkleBuilder } from './merkle.ts';
import { GENESIS_HASH } from './record.ts';
import { readHead } from './sealer.ts';

export const CHECKPOINT_FORMAT = 'custodian-audit-checkpoint/1';

export interface CheckpointBody {
  format: typeof CHECKPOINT_FORMAT;
  number: number;
  /** First and last sequence numbers covered (seq_start = previous seq_end + 1; empty when seq_end < seq_start). */
  seq_start: number;
  seq_end: number;
  tree_size: number;
  /** Chain hash of record seq_end (hex); the previous head for an empty checkpoint. */
  head_hash: string;
  /** RFC 6962 root over the chain hashes of records seq_start..seq_end (hex). */
  merkle_root: string;
  /** SHA-256 (hex) of the previous checkpoint's canonical body; "" for the first. */
  prev_checkpoint: string;
  created_at: number;
  key_id: string;
  node_id: string;
  /** At a key rotation: the key that signs the following checkpoints, vouched for by this signature. */
  next_key: { key_id: string; public_key: string } | null;
}

export interface Checkpoint {
  body: CheckpointBody;
  /** The canonical JSON of `body`: the signed bytes. */
  text: string;
  signature: string;
}

/** Thrown when the range to be signed has a hole: a checkpoint is never signed over missing records. */
export class AuditChainError extends Error {
  readonly seq: number;
  constructor(seq: number, message: string) {
    super(message);
    this.seq = seq;
  }
}

export function checkpointFromText(text: string, signature: string): Checkpoint {
  return { body: JSON.parse(text) as CheckpointBody, text, signature };
}

/** SHA-256 hex of a checkpoint's body text: what the next checkpoint's prev_checkpoint holds. */
export function checkpointDigest(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

const CHECKPOINT_LOCK = 'custodian.audit.checkpoint';
const FILE_LOCK = 'custodian.audit.checkpoint-file';

export async function lastCheckpoint(db: Knex | Knex.Transaction): Promise<Checkpoint | undefined> {
  const row = await db('audit_checkpoints').orderBy('number', 'desc').first('body', 'signature');
  return row ? checkpointFromText(row.body, row.signature) : undefined;
}

/** Checkpoints in number order (all, or those whose range reaches `fromSeq` or later). */
export async function listCheckpoints(db: Knex | Knex.Transaction, range: { fromSeq?: number; toSeq?: number } = {}): Promise<(Checkpoint & { number: number })[]> {
  const query = db('audit_checkpoints').orderBy('number').select('number', 'body', 'signature');
  if (range.fromSeq !== undefined) query.where('seq_end', '>=', range.fromSeq);
  if (range.toSeq !== undefined) query.where('seq_start', '<=', range.toSeq);
  const rows = await query;
  return rows.map((r: { number: number; body: string; signature: string }) => ({ number: Number(r.number), ...checkpointFromText(r.body, r.signature) }));
}

/**
 * Reads the chain hashes of start..end; returns their Merkle root and the head (hex). The records
 * themselves are not re-hashed here: a record changed without its hash fails verification whether or
 * not a checkpoint covers it, and one whose hashes were recomputed would pass such a check anyway.
 */
async function walkRange(trx: Knex.Transaction, start: number, end: number, previous: string): Promise<{ root: string; head: string }> {
  const merkle = new MerkleBuilder();
  let prev = previous;
  let expected = start;
  while (expected <= end) {
    const rows = (await trx.raw("SELECT seq, encode(hash, 'hex') AS hash FROM audit_log WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT 20000", [expected, end])).rows as { seq: number; hash: string }[];
    if (!rows.length) throw new AuditChainError(expected, `audit record ${expected} is missing`);
    for (const row of rows) {
      if (Number(row.seq) !== expected) throw new AuditChainError(expected, `audit record ${expected} is missing`);
      merkle.add(row.hash);
      prev = row.hash;
      expected++;
    }
  }
  return { root: merkle.rootHex(), head: prev };
}

/**
 * Signs a checkpoint over the records sealed since the last one (at most `maxRecords`). Returns undefined when there is nothing new (unless `nextKey` asks for a rotation
 * checkpoint, which may be empty). Serialized across processes by an advisory lock; idempotent.
 */
export async function createCheckpoint(
  db: Knex,
  key: SigningKey,
  options: { nodeId: string; maxRecords?: number; nextKey?: PublicAuditKey; now?: number },
): Promise<Checkpoint | undefined> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [CHECKPOINT_LOCK]);
    const last = await lastCheckpoint(trx);
    const head = await readHead(trx);
    const start = last ? last.body.seq_end + 1 : 1;
    if (head.seq < start && !options.nextKey) return undefined;
    const end = Math.min(head.seq, start - 1 + (options.maxRecords ?? Number.MAX_SAFE_INTEGER));
    const previous = last ? last.body.head_hash : GENESIS_HASH.toString('hex');
    const { root, head: headHash } = await walkRange(trx, start, end, previous);
    const body: CheckpointBody = {
      format: CHECKPOINT_FORMAT,
      number: (last?.body.number ?? 0) + 1,
      seq_start: start,
      seq_end: end,
      tree_size: Math.max(0, end - start + 1),
      head_hash: headHash,
      merkle_root: root,
      prev_checkpoint: last ? checkpointDigest(last.text) : '',
      created_at: options.now ?? Date.now(),
      key_id: key.keyId,
      node_id: options.nodeId,
      next_key: options.nextKey ? { key_id: options.nextKey.keyId, public_key: options.nextKey.publicKeyPem } : null,
    };
    const text = canonicalJson(body);
    const signature = signText(key, text);
    await trx('audit_checkpoints').insert({ number: body.number, body: text, signature });
    return { body, text, signature };
  });
}

/** Where a data directory keeps its copy of the checkpoints. */
export function checkpointFilePath(dataDir: string): string {
  return path.join(dataDir, 'audit', 'checkpoints.jsonl');
}

/** One line of the checkpoint file (and of a bundle's checkpoint lines, with "type"). */
export function checkpointLine(checkpoint: Checkpoint): string {
  return `{"body":${checkpoint.text},"signature":${JSON.stringify(checkpoint.signature)}}`;
}

/** Parses the checkpoint file; a torn last line (crash mid-write) is skipped. */
export function readCheckpointFile(file: string): Checkpoint[] {
  if (!fs.existsSync(file)) return [];
  const out: Checkpoint[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const parsed = JSON.parse(line) as { body: CheckpointBody; signature: string };
      out.push({ body: parsed.body, text: canonicalJson(parsed.body), signature: parsed.signature });
    } catch (err) {
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim())) throw new Error(`${file}:${i + 1}: unreadable checkpoint line`, { cause: err });
    }
  });
  return out;
}

function lastNumberInFile(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((l) => l.trim());
    for (let i = lines.length - 1; i >= 0; i--) {
      const match = /"number":(\d+)/.exec(lines[i]);
      if (match) return Number(match[1]);
    }
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Appends to the checkpoint file every checkpoint the database has beyond the file's last one, then
 * fsyncs. Runs after each checkpoint and at start (a crash between COMMIT and the append is repaired
 * here). A file that is ahead of the database is left alone: that is evidence of truncation.
 */
export async function syncCheckpointFile(db: Knex, file: string): Promise<Checkpoint[]> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [FILE_LOCK]);
    const after = lastNumberInFile(file);
    const rows = await trx('audit_checkpoints').where('number', '>', after).orderBy('number').limit(10_000).select('body', 'signature');
    if (!rows.length) return [];
    const checkpoints = rows.map((r: { body: string; signature: string }) => checkpointFromText(r.body, r.signature));
    ensureDir(path.dirname(file), 0o700);
    const fd = fs.openSync(file, 'a', 0o600);
    try {
      fs.writeSync(fd, checkpoints.map((c) => checkpointLine(c) + '\n').join(''));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return checkpoints;
  });
}
