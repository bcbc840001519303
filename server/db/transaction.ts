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
