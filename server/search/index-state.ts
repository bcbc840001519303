// Where an external search index stands against PostgreSQL (table search_index_state): the last
// (update_at, id) of posts it holds, and whether its backfill has finished.
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface IndexPosition {
  updateAt: number;
  id: string;
}

export interface IndexState {
  position: IndexPosition;
  /** When the last backfill finished (epoch ms), 0 while none has. */
  backfilledAt: number;
}

export const START: IndexPosition = { updateAt: -1, id: '' };

export async function readIndexState(db: Db, indexName: string): Promise<IndexState | undefined> {
  const row = (await db('search_index_state').where({ index_name: indexName }).first()) as { update_at: number; post_id: string; backfilled_at: number } | undefined;
  return row ? { position: { updateAt: Number(row.update_at), id: row.post_id }, backfilledAt: Number(row.backfilled_at) } : undefined;
}

/** Starts a backfill from nothing: the index is not to be searched until it finishes. */
export async function resetIndexState(db: Db, indexName: string): Promise<void> {
  await db('search_index_state')
    .insert({ index_name: indexName, update_at: START.updateAt, post_id: START.id, backfilled_at: 0, changed_at: Date.now() })
    .onConflict('index_name').merge();
}

/**
 * Records the position reached. It never moves back, except to `at` itself when a rebuild starts
 * (resetIndexState). `backfilled` marks the backfill finished.
 */
const AHEAD = '(EXCLUDED.update_at, EXCLUDED.post_id) > (search_index_state.update_at, search_index_state.post_id)';

export async function saveIndexPosition(db: Db, indexName: string, at: IndexPosition, backfilled = false): Promise<void> {
  await db.raw(
    `INSERT INTO search_index_state (index_name, update_at, post_id, backfilled_at, changed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (index_name) DO UPDATE SET
       update_at = CASE WHEN ${AHEAD} THEN EXCLUDED.update_at ELSE search_index_state.update_at END,
       post_id = CASE WHEN ${AHEAD} THEN EXCLUDED.post_id ELSE search_index_state.post_id END,
       backfilled_at = CASE WHEN EXCLUDED.backfilled_at > 0 THEN EXCLUDED.backfilled_at ELSE search_index_state.backfilled_at END,
       changed_at = EXCLUDED.changed_at`,
    [indexName, at.updateAt, at.id, backfilled ? Date.now() : 0, Date.now()],
  );
}
