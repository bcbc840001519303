import type { Knex } from 'knex';
import type { TestApp } from '../support/app.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- records are JSON read back in tests
export type StoredRecord = any;

/** Chains everything committed so far, then returns the sealed records (oldest first), parsed. */
export async function auditRecords(app: TestApp, where: { event_name?: string; user_id?: string } = {}): Promise<StoredRecord[]> {
  await app.services.audit.flush();
  const rows = await app.ownerDb('audit_log').where(where).orderBy('seq').select('record');
  return rows.map((r: { record: string }) => JSON.parse(r.record));
}

/** The newest record of an event, after sealing. */
export async function lastRecord(app: TestApp, eventName: string): Promise<StoredRecord | undefined> {
  return (await auditRecords(app, { event_name: eventName })).at(-1);
}

/** Runs `fn` on the owner (superuser) connection with triggers off, as an attacker with superuser would. */
export async function asSuperuser<T>(db: Knex | Knex.Transaction, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const run = async (trx: Knex.Transaction) => {
    await trx.raw("SET LOCAL session_replication_role = 'replica'");
    return fn(trx);
  };
  return 'commit' in db && typeof db.commit === 'function' && (db as Knex.Transaction).isTransaction ? run(db as Knex.Transaction) : (db as Knex).transaction(run);
}
