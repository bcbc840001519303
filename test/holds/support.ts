import type { Knex } from 'knex';

/** Audit records (chained or still waiting in the outbox) with this event name, oldest first. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary record shapes
export async function auditRecords(db: Knex, eventName: string): Promise<any[]> {
  const rows = await db.raw('SELECT record FROM audit_log UNION ALL SELECT record FROM audit_outbox');
  return rows.rows
    .map((r: { record: string }) => JSON.parse(r.record))
    .filter((r: { event_name: string }) => r.event_name === eventName)
    .sort((a: { timestamp: number }, b: { timestamp: number }) => a.timestamp - b.timestamp);
}
