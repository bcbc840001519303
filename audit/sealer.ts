// The sealer: takes committed records from audit_outbox in batches, gives each the next sequence
// number and its chain hash, and appends them to audit_log, all under the lock of the single
// audit_head row. Only this short transaction is serialized, never the actions themselves (holding a
// chain lock until each action commits limits a durable PostgreSQL to a few hundred actions a second).
import type { Knex } from 'knex';
import { chainHashHex, normalizeRecord, recordJson, type SealedAuditRecord } from './record.ts';

export interface ChainHead {
  seq: number;
  hash: Buffer;
}

export async function readHead(db: Knex | Knex.Transaction): Promise<ChainHead> {
  const row = await db('audit_head').where({ id: 1 }).first('seq', 'hash');
  return { seq: Number(row.seq), hash: row.hash as Buffer };
}

/** A queued record the sealer cannot read (written around recordAudit) is sealed as what it is. */
function unreadable(raw: string): Omit<SealedAuditRecord, 'seq'> {
  return normalizeRecord({ event_name: 'malformed_audit_record', status: 'fail', actor: {}, meta: {}, event: { parameters: { raw: raw.slice(0, 2048) } } });
}

function parseQueued(raw: string): Omit<SealedAuditRecord, 'seq'> {
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && typeof parsed.event_name === 'string' && !('seq' in parsed)) return parsed;
  } catch {
    // fall through
  }
  return unreadable(raw);
}

// recordAudit queues canonical JSON without "seq", whose members end with `"status":…,"timestamp":N}`.
// In canonical order "seq" sorts just before "status", so the sealed record is the queued text with
// `"seq":N,` spliced in there: the same bytes as re-serializing, without parsing.
const canonicalEnd = /^,"status":"(?:success|attempt|fail)","timestamp":\d+\}$/;

/** The canonical JSON of a queued record with its sequence number. */
export function withSeq(queued: string, seq: number): string {
  const at = queued.lastIndexOf(',"status":"');
  if (at > 0 && canonicalEnd.test(queued.slice(at)) && queued.startsWith('{"actor":{') && !queued.includes('"seq":') && !queued.includes('\x1e')) return `${queued.slice(0, at)},"seq":${seq}${queued.slice(at)}`;
  return recordJson({ ...parseQueued(queued), seq });
}

/** A record as sealed: its sequence number, canonical JSON and chain hash (hex). */
export interface SealedRow {
  seq: number;
  record: string;
  hash: string;
}

/** Seals up to `limit` queued records; returns how many, the new head, and the rows (for the streams). */
export async function sealPending(db: Knex, limit = 5000, now = Date.now()): Promise<{ sealed: number; head: ChainHead; rows: SealedRow[] }> {
  return db.transaction(async (trx) => {
    const locked = (await trx.raw('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE')).rows[0];
    let seq = Number(locked.seq);
    let hash = (locked.hash as Buffer).toString('hex');
    const queued = (await trx.raw('SELECT id, record FROM audit_outbox ORDER BY id LIMIT ?', [limit])).rows as { id: number; record: string }[];
    if (!queued.length) return { sealed: 0, head: { seq, hash: locked.hash as Buffer }, rows: [] };
    const rows = queued.map((q) => {
      seq += 1;
      const record = withSeq(q.record, seq);
      hash = chainHashHex(hash, record);
      return { seq, record, hash, sealed_at: now };
    });
    // The batch as one text and one bytea parameter instead of a VALUES list or text[] (whose element
    // quoting costs more than the rest of sealing). Canonical JSON escapes control characters, so the
    // record separator U+001E never occurs inside a record.
    await trx.raw(
      `INSERT INTO audit_log (seq, record, hash, sealed_at)
       SELECT ?::bigint + r.n - 1, r.record, substring(?::bytea FROM (r.n - 1)::int * 32 + 1 FOR 32), ?::bigint
       FROM unnest(string_to_array(?::text, E'\\x1e')) WITH ORDINALITY AS r(record, n)`,
      [rows[0].seq, Buffer.from(rows.map((r) => r.hash).join(''), 'hex'), now, rows.map((r) => r.record).join('\x1e')],
    );
    await trx.raw('DELETE FROM audit_outbox WHERE id = ANY(?::bigint[])', [queued.map((q) => q.id)]);
    const head = { seq, hash: Buffer.from(hash, 'hex') };
    await trx('audit_head').where({ id: 1 }).update({ seq, hash: head.hash, updated_at: now });
    return { sealed: rows.length, head, rows: rows.map((r) => ({ seq: r.seq, record: r.record, hash: r.hash })) };
  });
}

/** Seals until the queue is empty (as far as this transaction's snapshots can see). */
export async function sealAll(db: Knex): Promise<number> {
  let total = 0;
  for (;;) {
    const { sealed } = await sealPending(db);
    total += sealed;
    if (sealed < 5000) return total;
  }
}
