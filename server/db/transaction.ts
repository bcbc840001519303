import type { Knex } from 'knex';

/** Registers work to run once the surrounding transaction has committed (never after a rollback). */
export type AfterCommit = (effect: () => void) => void;

/**
 * Runs `work` in a transaction and, only after COMMIT succeeds, the side effects it registered
 * (WebSocket events, outbox drains). A failing effect is logged by the caller's effect, never undoing
 * the committed change.
 */
export async function inTransaction<T>(db: Knex, work: (trx: Knex.Transaction, afterCommit: AfterCommit) => Promise<T>, config?: Knex.TransactionConfig): Promise<T> {
  const effects: (() => void)[] = [];
  const result = await db.transaction((trx) => work(trx, (effect) => effects.push(effect)), config);
  for (const effect of effects) effect();
  return result;
}

/**
 * For work whose only write is a single statement, atomic by itself: runs it on the pool, sparing the
 * BEGIN and COMMIT round trips, then the side effects it registered, as `inTransaction` does after
 * COMMIT. Work that may write twice must use `inTransaction`.
 */
export async function inOneStatement<T>(db: Knex, work: (db: Knex, afterCommit: AfterCommit) => Promise<T>): Promise<T> {
  const effects: (() => void)[] = [];
  const result = await work(db, (effect) => effects.push(effect));
  for (const effect of effects) effect();
  return result;
}
