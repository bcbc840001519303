import type { Knex } from 'knex';
import { prepared } from '../db/prepared.ts';

// Pending touches are written this long after the first one: a burst of requests from many sessions
// becomes one UPDATE, sent after the responses.
const FLUSH_DELAY_MS = 2_000;

const touchQuery = `
  UPDATE sessions s SET last_activity_at = t.at FROM unnest(?::text[], ?::bigint[]) AS t(id, at)
  WHERE s.id = t.id AND s.last_activity_at < t.at`;

/**
 * Coalesces `sessions.last_activity_at` updates: requests record activity in memory and one statement
 * per flush writes every session touched since the last, never moving a time backwards (another node
 * may have written a later one). Kept per pool, as several servers may share a process (tests).
 */
class SessionActivity {
  private pending = new Map<Knex, Map<string, number>>();
  private timer?: NodeJS.Timeout;

  record(db: Knex, sessionId: string, at: number): void {
    let sessions = this.pending.get(db);
    if (!sessions) this.pending.set(db, (sessions = new Map()));
    sessions.set(sessionId, at);
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref();
  }

  /** Writes what is pending for `db` (every pool when omitted); the server calls it before closing its pool. */
  async flush(db?: Knex): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending].filter(([pool]) => !db || pool === db);
    for (const [pool, sessions] of batches) {
      this.pending.delete(pool);
      // A lost touch makes a session look idle a minute early at worst; its next request records it again.
      await pool.raw(touchQuery, [[...sessions.keys()], [...sessions.values()]]).options(prepared('session_touch')).catch(() => undefined);
    }
    if (this.pending.size) this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref();
  }
}

export const sessionActivity = new SessionActivity();
