// Verification: walks the chain record by record from a trusted anchor, checks every signed
// checkpoint (signature by a trusted key, links between checkpoints, chain head, Merkle root or
// inclusion proofs), and reports the first bad sequence number and what is wrong with it.
import type { Knex } from 'knex';
import { checkpointDigest, CHECKPOINT_FORMAT, lastCheckpoint, listCheckpoints, readCheckpointFile, type Checkpoint } from './checkpoints.ts';
import { keyIdOf, verifyText, type PublicAuditKey } from './keys.ts';
import { verifyInclusion } from './merkle.ts';
import { LocalRoots, WorkerRoots, type RootCollector } from './merkle-worker.ts';
import { chainHashHex, embeddedSeq, GENESIS_HASH } from './record.ts';
import { readHead } from './sealer.ts';

export type TamperReason = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'truncated' | 'bad_signature';

export interface Finding {
  /** The first sequence number the finding makes untrustworthy. */
  seq: number;
  reason: TamperReason;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  /** The first problem by sequence number (what `custodian audit verify` names). */
  first?: Finding;
  findings: Finding[];
  fromSeq: number;
  toSeq: number;
  records: number;
  checkpoints: number;
  /** The last sequence number covered by a verified checkpoint. */
  signedThrough: number;
  warnings: string[];
}

/** One record in chain order: its position (sequence number), its canonical JSON and its stored hash (hex). */
export interface ChainEntry {
  pos: number;
  json: string;
  hash: string;
  proof?: { checkpoint: number; index: number; path: Buffer[] };
}

class Findings {
  readonly list: Finding[] = [];
  add(seq: number, reason: TamperReason, detail: string): void {
    if (!this.list.some((f) => f.seq === seq && f.reason === reason)) this.list.push({ seq, reason, detail });
  }
}

/**
 * Checks checkpoints in number order: signature by a trusted key (a valid checkpoint announcing a
 * next key makes that key trusted), contiguous numbers and ranges, and the link to the previous body.
 * Returns the checkpoints that passed.
 */
export function checkCheckpoints(checkpoints: Checkpoint[], trusted: Map<string, string>, findings: Findings, stored?: number[]): Checkpoint[] {
  const valid: Checkpoint[] = [];
  let prev: Checkpoint | undefined;
  checkpoints.forEach((cp, i) => {
    const b = cp.body;
    const at = b.seq_start;
    let ok = true;
    const fail = (reason: TamperReason, detail: string) => {
      findings.add(at, reason, `checkpoint ${b.number}: ${detail}`);
      ok = false;
    };
    if (b.format !== CHECKPOINT_FORMAT) fail('modified', `unknown format ${String(b.format)}`);
    if (stored && stored[i] !== b.number) fail('modified', `stored as number ${stored[i]} but its body says ${b.number}`);
    if (prev) {
      if (b.number !== prev.body.number + 1) findings.add(prev.body.seq_end + 1, 'deleted', `checkpoints ${prev.body.number + 1}..${b.number - 1} are missing`);
      else if (b.prev_checkpoint !== checkpointDigest(prev.text)) fail('modified', `does not link to checkpoint ${prev.body.number}`);
      else if (b.seq_start !== prev.body.seq_end + 1) fail('modified', `range ${b.seq_start}..${b.seq_end} does not follow ${prev.body.seq_end}`);
    }
    if (b.tree_size !== Math.max(0, b.seq_end - b.seq_start + 1)) fail('modified', 'tree size does not match its range');
    const key = trusted.get(b.key_id);
    if (!key) fail('bad_signature', `signed by key ${b.key_id}, which is not trusted`);
    else if (!verifyText(key, cp.text, cp.signature)) fail('bad_signature', `signature does not verify with key ${b.key_id}`);
    else if (b.next_key) {
      if (keyIdOf(b.next_key.public_key) === b.next_key.key_id) trusted.set(b.next_key.key_id, b.next_key.public_key);
      else fail('modified', 'announces a next key whose id does not match it');
    }
    if (ok) valid.push(cp);
    prev = cp;
  });
  return valid;
}

/** Walks records in order against the verified checkpoints; stops at the first bad record. */
class ChainWalker {
  private expected: number;
  private prev: string;
  private readonly walkStart: number;
  private readonly checkpoints: Checkpoint[];
  private ci = 0;
  private readonly rootsOf: RootCollector;
  /** Whole checkpoint ranges walked with a matching head, whose Merkle roots are still to compare. */
  private readonly pendingRoots: Checkpoint[] = [];
  stopped = false;
  records = 0;
  lastSeq: number;
  lastHash: string;
  signedThrough = 0;
  uncovered = 0;
  firstUncovered = 0;
  private readonly findings: Findings;

  constructor(anchorSeq: number, anchorHash: string, checkpoints: Checkpoint[], findings: Findings, roots: RootCollector = new LocalRoots()) {
    this.rootsOf = roots;
    this.expected = anchorSeq + 1;
    this.walkStart = anchorSeq + 1;
    this.prev = anchorHash;
    this.lastSeq = anchorSeq;
    this.lastHash = anchorHash;
    this.checkpoints = checkpoints.filter((c) => c.body.tree_size > 0).sort((a, b) => a.body.seq_start - b.body.seq_start);
    this.findings = findings;
    while (this.ci < this.checkpoints.length && this.checkpoints[this.ci].body.seq_end < this.walkStart) this.ci++;
  }

  private fail(seq: number, reason: TamperReason, detail: string): false {
    this.findings.add(seq, reason, detail);
    this.stopped = true;
    return false;
  }

  roots(): Promise<Map<number, string>> {
    return this.rootsOf.roots();
  }

  walkedWhole(): Checkpoint[] {
    return this.pendingRoots;
  }

  close(): Promise<void> {
    return this.rootsOf.close();
  }

  /**
   * Checks `r`: in place and linked to the previous record is the fast path. Otherwise the sequence
   * numbers the records claim (and `n`, the entry after it) tell what happened.
   */
  process(r: ChainEntry, n: ChainEntry | undefined): boolean {
    if (r.pos !== this.expected || chainHashHex(this.prev, r.json) !== r.hash) return this.classify(r, n);
    this.prev = r.hash;
    this.expected++;
    this.records++;
    this.lastSeq = r.pos;
    this.lastHash = r.hash;
    return this.checkpoint(r);
  }

  private classify(r: ChainEntry, n: ChainEntry | undefined): false {
    if (r.pos !== this.expected) {
      if (r.pos > this.expected) return this.fail(this.expected, 'deleted', `records ${this.expected}..${r.pos - 1} are missing`);
      return this.fail(r.pos, 'inserted', `sequence number ${r.pos} appears twice`);
    }
    const claimed = embeddedSeq(r.json);
    const nextClaimed = n ? embeddedSeq(n.json) : -1;
    if (claimed > r.pos) {
      if (nextClaimed === r.pos) return this.fail(r.pos, 'reordered', `record ${claimed} stands at ${r.pos} and record ${r.pos} after it`);
      return this.fail(r.pos, 'deleted', `records ${r.pos}..${claimed - 1} are missing (later records were renumbered)`);
    }
    if (claimed < r.pos && claimed >= this.walkStart) {
      // Record `claimed` was pushed along: what now stands before it was inserted.
      if (claimed === r.pos - 1) return this.fail(claimed, 'inserted', `a record that is not part of the chain was inserted at ${claimed}`);
      return this.fail(r.pos, 'reordered', `record ${claimed} stands at ${r.pos}`);
    }
    if (claimed < r.pos) return this.fail(r.pos, 'reordered', `record ${claimed} stands at ${r.pos}`);
    if (nextClaimed === r.pos) return this.fail(r.pos, 'inserted', `a record that is not part of the chain was inserted at ${r.pos}`);
    return this.fail(r.pos, 'modified', `record ${r.pos} does not match its chain hash`);
  }

  private checkpoint(r: ChainEntry): boolean {
    const cp = this.checkpoints[this.ci];
    if (!cp || cp.body.seq_start > r.pos) {
      if (!this.uncovered++) this.firstUncovered = r.pos;
      return true;
    }
    const b = cp.body;
    const whole = b.seq_start >= this.walkStart;
    if (whole) {
      if (r.pos === b.seq_start) this.rootsOf.begin(b.number);
      this.rootsOf.add(r.hash);
    } else {
      const p = r.proof;
      if (!p || p.checkpoint !== b.number || p.index !== r.pos - b.seq_start || !verifyInclusion(Buffer.from(r.hash, 'hex'), p.index, b.tree_size, p.path, Buffer.from(b.merkle_root, 'hex'))) {
        return this.fail(r.pos, 'modified', `record ${r.pos} has no valid inclusion proof in checkpoint ${b.number}`);
      }
    }
    if (r.pos === b.seq_end) {
      const from = Math.max(b.seq_start, this.walkStart);
      if (r.hash !== b.head_hash) return this.fail(from, 'modified', `records ${from}..${b.seq_end} differ from signed checkpoint ${b.number} (chain head mismatch: the chain was rewritten)`);
      if (whole) {
        this.rootsOf.end(b.number);
        this.pendingRoots.push(cp);
      }
      this.signedThrough = b.seq_end;
      this.ci++;
    }
    return true;
  }
}

/** Compares the Merkle roots of the whole ranges walked with their signed checkpoints. */
async function checkRoots(walker: ChainWalker, findings: Findings): Promise<void> {
  const roots = await walker.roots();
  for (const cp of walker.walkedWhole()) {
    const root = roots.get(cp.body.number);
    if (root && root !== cp.body.merkle_root) {
      findings.add(cp.body.seq_start, 'modified', `records ${cp.body.seq_start}..${cp.body.seq_end} differ from signed checkpoint ${cp.body.number} (Merkle root mismatch)`);
    }
  }
}

/** Feeds batches to the walker with one entry of lookahead across batch boundaries. */
async function walk(walker: ChainWalker, batches: AsyncIterable<ChainEntry[]>): Promise<void> {
  let pending: ChainEntry | undefined;
  for await (const batch of batches) {
    for (const entry of batch) {
      if (pending && !walker.process(pending, entry)) return;
      pending = entry;
    }
  }
  if (pending) walker.process(pending, undefined);
}

function finish(findings: Findings, base: Omit<VerifyResult, 'ok' | 'first' | 'findings'>): VerifyResult {
  const order: TamperReason[] = ['deleted', 'inserted', 'reordered', 'modified', 'truncated', 'bad_signature'];
  const list = [...findings.list].sort((a, b) => a.seq - b.seq || order.indexOf(a.reason) - order.indexOf(b.reason));
  return { ok: list.length === 0, first: list[0], findings: list, ...base };
}

function trustMap(keys: PublicAuditKey[]): Map<string, string> {
  return new Map(keys.map((k) => [k.keyId, k.publicKeyPem]));
}

/**
 * The log in sequence ranges of `batchSize`, fetched over every connection given (all in one
 * snapshot) with one request in flight per connection, so PostgreSQL reads ahead while this thread
 * checks. Rows numbered below 1 (which no sealer writes) are included, to be reported.
 */
async function* databaseEntries(connections: (Knex | Knex.Transaction)[], batchSize: number): AsyncIterable<ChainEntry[]> {
  const { lo, hi } = (await connections[0].raw('SELECT coalesce(min(seq), 1) AS lo, coalesce(max(seq), 0) AS hi FROM audit_log')).rows[0];
  const first = Math.min(Number(lo), 1) - 1;
  const last = Number(hi);
  const fetch = (i: number) =>
    connections[i % connections.length]
      .raw("SELECT seq, record, encode(hash, 'hex') AS hash FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq", [first + i * batchSize, first + (i + 1) * batchSize])
      .then((r: { rows: { seq: number; record: string; hash: string }[] }) => r.rows.map((row) => ({ pos: Number(row.seq), json: row.record, hash: row.hash })));
  const count = Math.ceil((last - first) / batchSize);
  const inFlight: Promise<ChainEntry[]>[] = [];
  let next = 0;
  while (next < count && inFlight.length < connections.length) inFlight.push(fetch(next++));
  while (inFlight.length) {
    const batch = await inFlight.shift()!;
    if (next < count) inFlight.push(fetch(next++));
    if (batch.length) yield batch;
  }
}

/**
 * Runs `fn` with a second connection in the same snapshot as `trx` (exported and imported), or with
 * none when the snapshot cannot be shared (a caller's transaction may hold changes of its own).
 */
async function withSnapshotPeer<T>(root: Knex | undefined, trx: Knex.Transaction, fn: (peers: Knex.Transaction[]) => Promise<T>): Promise<T> {
  const poolMax = (root?.client.config as { pool?: { max?: number } } | undefined)?.pool?.max ?? 1;
  if (!root || poolMax < 2) return fn([]);
  const snapshot = (await trx.raw('SELECT pg_export_snapshot() AS s')).rows[0].s as string;
  return root.transaction(async (peer) => {
    await peer.raw(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/[^0-9A-F-]/gi, '')}'`);
    return fn([peer]);
  }, { isolationLevel: 'repeatable read', readOnly: true });
}

/**
 * Verifies the whole log in the database: the chain from record 1, every checkpoint, the head row,
 * and the checkpoint file(s) kept outside the database (a checkpoint there that the database lacks or
 * no longer reaches is evidence of deletion or truncation).
 */
export async function verifyDatabase(
  db: Knex | Knex.Transaction,
  options: { trustedKeys: PublicAuditKey[]; checkpointFiles?: string[]; batchSize?: number },
): Promise<VerifyResult> {
  // The checkpoint files are read first, then one snapshot serves the whole walk: a checkpoint or
  // records committed meanwhile by a running server must not look like a truncation.
  const external = (options.checkpointFiles ?? []).map((file) => ({ file, checkpoints: readCheckpointFile(file) }));
  if ((db as Knex.Transaction).isTransaction) return verifySnapshot(db as Knex.Transaction, [], options, external);
  const root = db as Knex;
  return root.transaction((trx) => withSnapshotPeer(root, trx, (peers) => verifySnapshot(trx, peers, options, external)), { isolationLevel: 'repeatable read', readOnly: true });
}

async function verifySnapshot(
  db: Knex.Transaction,
  peers: Knex.Transaction[],
  options: { trustedKeys: PublicAuditKey[]; batchSize?: number },
  externalFiles: { file: string; checkpoints: Checkpoint[] }[],
): Promise<VerifyResult> {
  const findings = new Findings();
  const warnings: string[] = [];
  const trusted = trustMap(options.trustedKeys);
  if (!trusted.size) warnings.push('no trusted public key given: every checkpoint signature fails');
  const stored = await listCheckpoints(db);
  const valid = checkCheckpoints(stored, trusted, findings, stored.map((c) => c.number));
  const walker = new ChainWalker(0, GENESIS_HASH.toString('hex'), valid, findings, new WorkerRoots());
  try {
    await walk(walker, databaseEntries([db, ...peers], options.batchSize ?? 20_000));
    await checkRoots(walker, findings);
  } finally {
    await walker.close();
  }
  const last = walker.lastSeq;
  if (!walker.stopped) {
    const head = await readHead(db);
    if (head.seq > last) findings.add(last + 1, 'truncated', `the chain head says ${head.seq} records but the log ends at ${last}`);
    else if (head.seq === last && last > 0 && head.hash.toString('hex') !== walker.lastHash) findings.add(last, 'modified', 'the chain head does not match the last record');
    for (const cp of valid) {
      if (cp.body.seq_end > last) findings.add(last + 1, 'truncated', `checkpoint ${cp.body.number} covers records up to ${cp.body.seq_end} but the log ends at ${last}`);
    }
  }
  const byNumber = new Map(stored.map((c) => [c.body.number, c]));
  for (const { file, checkpoints: external } of externalFiles) {
    checkCheckpoints(external, new Map(trusted), findings);
    for (const cp of external) {
      const b = cp.body;
      const inDb = byNumber.get(b.number);
      if (!inDb) {
        if (b.seq_end > last) findings.add(last + 1, 'truncated', `checkpoint ${b.number} in ${file} covers records up to ${b.seq_end} but the log ends at ${last}`);
        else findings.add(b.seq_start, 'deleted', `checkpoint ${b.number} is in ${file} but not in the database`);
      } else if (inDb.text !== cp.text) {
        findings.add(b.seq_start, b.seq_end > last ? 'truncated' : 'modified', `checkpoint ${b.number} differs from the copy in ${file}`);
      } else if (inDb.signature !== cp.signature) {
        findings.add(b.seq_start, 'bad_signature', `checkpoint ${b.number}'s signature differs from the copy in ${file}`);
      } else if (b.seq_end > last && !walker.stopped) {
        findings.add(last + 1, 'truncated', `checkpoint ${b.number} in ${file} covers records up to ${b.seq_end} but the log ends at ${last}`);
      }
    }
  }
  const pending = Number((await db('audit_outbox').count({ n: '*' }))[0].n);
  if (pending) warnings.push(`${pending} records are queued and not chained yet`);
  if (walker.uncovered && !walker.stopped) warnings.push(`${walker.uncovered} records after the last checkpoint are not signed yet`);
  return finish(findings, { fromSeq: 1, toSeq: last, records: walker.records, checkpoints: stored.length, signedThrough: walker.signedThrough, warnings });
}

export { Findings, ChainWalker, walk, finish, trustMap, checkRoots };

/** The newest checkpoint, for status output. */
export { lastCheckpoint };
