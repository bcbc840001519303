import type { Knex } from 'knex';

// Hold changes and retention purge batches take this one transaction-scoped advisory lock, so they
// never interleave: a purge batch that has chosen its victims commits before a new hold can commit,
// and a batch that starts after a hold committed sees it (security checklist, "Legal hold vs
// retention"). The key is a fixed, arbitrary 64-bit number no other Custodian lock uses.
export const HOLD_PURGE_LOCK_KEY = 7_262_011_226_060_001n;

/** Takes the hold/purge lock until the end of `trx` (waits for the other side to commit). */
export async function lockHoldsAgainstPurge(trx: Knex.Transaction): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?::bigint)', [HOLD_PURGE_LOCK_KEY.toString()]);
}
