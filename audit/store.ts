// Writing records: `recordAudit` inserts into audit_outbox inside the caller's transaction, so the
// record commits or rolls back with the action, and a failed insert fails the action. The sealer
// (sealer.ts) chains committed records shortly after.
import type { Knex } from 'knex';
import { prepared } from '../server/db/prepared.ts';
import { normalizeRecord, recordJson, type AuditRecord } from './record.ts';

type Listener = () => void;
const listeners = new Set<Listener>();

/** Calls `listener` whenever a record has been committed in this process (the sealer wakes up). */
export function onAuditCommitted(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}

const ignore = () => {};

/**
 * Records an audit event in the caller's transaction (or, given a plain connection, on its own).
 * Throws when the record is malformed or cannot be written: the caller's action must then fail.
 * Returns the record's id.
 */
export async function recordAudit(db: Knex | Knex.Transaction, record: AuditRecord): Promise<string> {
  const normal = normalizeRecord(record);
  // Nearly every write request sends this statement: prepared once per pooled connection, PostgreSQL
  // only binds and executes it (a third less PostgreSQL CPU per record than parsing it each time).
  await db.raw('INSERT INTO audit_outbox (record) VALUES (?)', [recordJson(normal)]).options(prepared('audit_record'));
  const execution = (db as Partial<Knex.Transaction>).executionPromise;
  if (execution) execution.then(notify, ignore);
  else queueMicrotask(notify);
  return normal.id;
}
