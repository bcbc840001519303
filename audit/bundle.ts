// Export bundles: a range of the chain that a third party can verify offline with the public key
// alone. Format (docs/audit-bundle.md): JSON Lines, each line canonical JSON with a "type": header,
// key(s), checkpoint(s), record(s), trailer. The trailer is signed, so a bundle cut short is detected.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Knex } from 'knex';
import { canonicalJson } from './canonical.ts';
import { checkpointFromText, createCheckpoint, listCheckpoints, type Checkpoint, type CheckpointBody } from './checkpoints.ts';
import { currentSigningKey, registeredKeys, signText, verifyText, type AuditKeyDir, type PublicAuditKey } from './keys.ts';
import { MerkleTree } from './merkle.ts';
import { GENESIS_HASH } from './record.ts';
import { sealAll } from './sealer.ts';
import { ChainWalker, checkCheckpoints, checkRoots, finish, Findings, trustMap, walk, type ChainEntry, type VerifyResult } from './verify.ts';

export const BUNDLE_FORMAT = 'custodian-audit-bundle/1';

export interface BundleRange {
  /** Sequence numbers (inclusive), or times in epoch ms; missing ends mean the start or the head. */
  fromSeq?: number;
  toSeq?: number;
  fromMs?: number;
  toMs?: number;
}

interface TrailerPayload {
  format: typeof BUNDLE_FORMAT;
  from_seq: number;
  to_seq: number;
  record_count: number;
  anchor_hash: string;
  head_hash: string;
  created_at: number;
  key_id: string;
}

async function resolveRange(db: Knex, range: BundleRange, headSeq: number): Promise<{ from: number; to: number }> {
  let from = range.fromSeq ?? 1;
  let to = range.toSeq ?? headSeq;
  // Sequence order is sealing order, so a time window becomes the sequence range from its first to its
  // last record (records in between from just outside the window are included: the chain must be whole).
  if (range.fromMs !== undefined) from = Math.max(from, Number((await db('audit_log').where('create_at', '>=', range.fromMs).min({ s: 'seq' }))[0].s ?? headSeq + 1));
  if (range.toMs !== undefined) to = Math.min(to, Number((await db('audit_log').where('create_at', '<=', range.toMs).max({ s: 'seq' }))[0].s ?? 0));
  return { from: Math.max(1, from), to: Math.min(to, headSeq) };
}

/**
 * Writes a bundle of records `range` to `out`: first seals queued records and signs a checkpoint so
 * every exported record is covered by one, then streams the records with inclusion proofs for those
 * whose checkpoint is only partly inside the range. Returns the range and count written.
 */
export async function exportBundle(db: Knex, keys: AuditKeyDir, range: BundleRange, out: string, options: { nodeId: string; maxCheckpointRecords?: number }): Promise<{ from: number; to: number; records: number }> {
  await sealAll(db);
  const key = await currentSigningKey(db, keys);
  if (!key) throw new Error('no audit signing key is registered yet (start the server once)');
  while (await createCheckpoint(db, key, { nodeId: options.nodeId, maxRecords: options.maxCheckpointRecords }));
  const headSeq = Number((await db('audit_head').where({ id: 1 }).first('seq')).seq);
  const { from, to } = await resolveRange(db, range, headSeq);
  const anchor = from > 1 ? ((await db('audit_log').where({ seq: from - 1 }).first('hash'))?.hash as Buffer | undefined) : GENESIS_HASH;
  if (!anchor) throw new Error(`record ${from - 1} is missing: verify the log first`);
  const checkpoints = from <= to ? await listCheckpoints(db, { fromSeq: from, toSeq: to }) : [];
  const createdAt = Date.now();
  const stream = fs.createWriteStream(out, { mode: 0o600 });
  const write = (line: string) => (stream.write(line + '\n') ? Promise.resolve() : new Promise<void>((resolve) => stream.once('drain', () => resolve())));
  await write(canonicalJson({ type: 'header', format: BUNDLE_FORMAT, from_seq: from, to_seq: to, anchor_hash: anchor.toString('hex'), created_at: createdAt, node_id: options.nodeId }));
  const created = new Map((await db('audit_keys').select('key_id', 'created_at')).map((r: { key_id: string; created_at: number }) => [r.key_id, Number(r.created_at)]));
  for (const k of await registeredKeys(db)) await write(canonicalJson({ type: 'key', key_id: k.keyId, public_key: k.publicKeyPem, created_at: created.get(k.keyId) ?? 0 }));
  for (const cp of checkpoints) await write(`{"body":${cp.text},"signature":${JSON.stringify(cp.signature)},"type":"checkpoint"}`);

  // Checkpoints only partly inside the range: their whole tree, for inclusion proofs.
  const trees = new Map<number, { cp: Checkpoint; tree: MerkleTree }>();
  for (const cp of checkpoints) {
    const b = cp.body;
    if (b.tree_size > 0 && (b.seq_start < from || b.seq_end > to)) {
      const hashes = await db('audit_log').whereBetween('seq', [b.seq_start, b.seq_end]).orderBy('seq').pluck('hash');
      trees.set(b.number, { cp, tree: new MerkleTree(hashes as Buffer[]) });
    }
  }
  const partialFor = (seq: number) => [...trees.values()].find((t) => t.cp.body.seq_start <= seq && seq <= t.cp.body.seq_end);

  let count = 0;
  let head = anchor;
  for (let after = from - 1; after < to; ) {
    const rows = (await db.raw('SELECT seq, record, hash FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 10000', [after, to])).rows as { seq: number; record: string; hash: Buffer }[];
    if (!rows.length) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      const partial = partialFor(seq);
      const proof = partial ? `"proof":${canonicalJson({ checkpoint: partial.cp.body.number, index: seq - partial.cp.body.seq_start, path: partial.tree.proof(seq - partial.cp.body.seq_start).map((h) => h.toString('hex')) })},` : '';
      await write(`{"hash":"${row.hash.toString('hex')}",${proof}"record":${row.record},"type":"record"}`);
      head = row.hash;
      count++;
      after = seq;
    }
  }
  const payload: TrailerPayload = { format: BUNDLE_FORMAT, from_seq: from, to_seq: to, record_count: count, anchor_hash: anchor.toString('hex'), head_hash: head.toString('hex'), created_at: createdAt, key_id: key.keyId };
  await write(canonicalJson({ ...payload, signature: signText(key, canonicalJson(payload)), type: 'trailer' }));
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { from, to, records: count };
}

const hexPath = (p: string[]) => p.map((h) => Buffer.from(h, 'hex'));

/** A record line: the bytes of its "record" member are hashed as they stand (they are canonical JSON). */
function recordEntry(line: string, pos: number): ChainEntry {
  const tail = ',"type":"record"}';
  const at = line.indexOf(',"record":', 73);
  if (line.startsWith('{"hash":"') && line.charAt(73) === '"' && line.endsWith(tail) && at > 0) {
    const proofText = line.startsWith(',"proof":', 74) ? line.slice(83, at) : undefined;
    const proof = proofText ? (JSON.parse(proofText) as { checkpoint: number; index: number; path: string[] }) : undefined;
    return { pos, json: line.slice(at + 10, line.length - tail.length), hash: line.slice(9, 73), proof: proof && { ...proof, path: hexPath(proof.path) } };
  }
  // Not in the layout the exporter writes (re-serialized by a tool): canonicalize the record member.
  const parsed = JSON.parse(line) as { hash: string; record: unknown; proof?: { checkpoint: number; index: number; path: string[] } };
  return { pos, json: canonicalJson(parsed.record), hash: String(parsed.hash), proof: parsed.proof && { ...parsed.proof, path: hexPath(parsed.proof.path) } };
}

/**
 * Verifies a bundle offline. `trustedKeys` are the public keys the auditor trusts; without them the
 * keys carried in the bundle are used, and a warning says so (anyone can put a key in a file).
 */
export async function verifyBundle(file: string, options: { trustedKeys?: PublicAuditKey[] } = {}): Promise<VerifyResult> {
  const findings = new Findings();
  const warnings: string[] = [];
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  let header: { from_seq: number; to_seq: number; anchor_hash: string } | undefined;
  const bundleKeys: PublicAuditKey[] = [];
  const checkpoints: Checkpoint[] = [];
  let firstRecord: string | undefined;
  let trailer: Record<string, unknown> | undefined;
  let lineNo = 0;
  // Header, keys and checkpoints come first.
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    lineNo++;
    const line = next.value;
    if (!line.trim()) continue;
    if (line.includes('"type":"record"}')) {
      firstRecord = line;
      break;
    }
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed.type === 'header') header = parsed as typeof header;
    else if (parsed.type === 'key') bundleKeys.push({ keyId: String(parsed.key_id), publicKeyPem: String(parsed.public_key) });
    else if (parsed.type === 'checkpoint') checkpoints.push(checkpointFromText(canonicalJson(parsed.body as CheckpointBody), String(parsed.signature)));
    else if (parsed.type === 'trailer') {
      trailer = parsed;
      break;
    } else throw new Error(`${file}:${lineNo}: unknown line type ${String(parsed.type)}`);
  }
  if (!header) throw new Error(`${file} is not an audit bundle (no header line)`);
  let keys = options.trustedKeys ?? [];
  if (!keys.length) {
    keys = bundleKeys;
    warnings.push('no --public-key given: checked against the keys inside the bundle, which prove nothing by themselves');
  }
  const trusted = trustMap(keys);
  const valid = checkCheckpoints(checkpoints, trusted, findings);
  const walker = new ChainWalker(header.from_seq - 1, header.anchor_hash, valid, findings);
  let pos = header.from_seq;
  async function* entries(): AsyncIterable<ChainEntry[]> {
    let batch: ChainEntry[] = [];
    if (firstRecord) batch.push(recordEntry(firstRecord, pos++));
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const line = next.value;
      if (!line.trim()) continue;
      if (line.endsWith('"type":"record"}')) {
        batch.push(recordEntry(line, pos++));
        if (batch.length >= 5000) {
          yield batch;
          batch = [];
        }
      } else if (line.includes('"type":"trailer"')) {
        trailer = JSON.parse(line);
      }
    }
    if (batch.length) yield batch;
  }
  if (!trailer) await walk(walker, entries());
  await checkRoots(walker, findings);
  const last = walker.lastSeq;
  if (!walker.stopped) {
    if (!trailer) {
      findings.add(last + 1, 'truncated', 'the bundle ends without its signed trailer');
    } else {
      const { signature, type: _type, ...payload } = trailer;
      const key = trusted.get(String(payload.key_id));
      if (!key || !verifyText(key, canonicalJson(payload), String(signature))) findings.add(header.from_seq, 'bad_signature', 'the bundle trailer signature does not verify');
      else {
        const p = payload as unknown as TrailerPayload;
        if (p.from_seq !== header.from_seq || p.anchor_hash !== header.anchor_hash) findings.add(header.from_seq, 'modified', 'the header does not match the signed trailer');
        if (last < p.to_seq) findings.add(last + 1, 'truncated', `the bundle should hold records up to ${p.to_seq} but ends at ${last}`);
        else if (last > p.to_seq) findings.add(p.to_seq + 1, 'inserted', `the bundle holds records after ${p.to_seq}, where its signed trailer ends`);
        else if (p.head_hash !== walker.lastHash) findings.add(last, 'modified', 'the last record does not match the signed trailer');
      }
      const inAnyCheckpoint = (seq: number) => checkpoints.some((c) => c.body.seq_start <= seq && seq <= c.body.seq_end);
      // Records outside every checkpoint line: one was removed (a checkpoint that failed its checks is reported already).
      if (walker.uncovered && !inAnyCheckpoint(walker.firstUncovered)) findings.add(walker.firstUncovered, 'deleted', `${walker.uncovered} records are covered by no checkpoint in the bundle (a checkpoint was removed)`);
    }
  }
  // A checkpoint that starts before the bundle makes its first record the first untrustworthy one.
  for (const f of findings.list) f.seq = Math.max(f.seq, header.from_seq);
  return finish(findings, { fromSeq: header.from_seq, toSeq: last, records: walker.records, checkpoints: checkpoints.length, signedThrough: walker.signedThrough, warnings });
}
