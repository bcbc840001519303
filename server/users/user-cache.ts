import { sessionCache } from '../auth/session-cache.ts';
import type { UserRow } from './presenter.ts';

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Users rows by id for a minute: clients fetch the authors of every channel page they show. Every
 * change to a user already drops that user's cached sessions on every node (`forgetCachedSessions`,
 * relayed by realtime/cluster-sessions.ts); the same invalidation drops the row here.
 */
class UserRowCache {
  private readonly rows = new Map<string, { row: UserRow; expiresAt: number }>();
  // Bumped by every invalidation: rows loaded while one happened are used once but not kept.
  private generation = 0;

  constructor() {
    sessionCache.onDrop((what) => {
      if (!what.userId) return;
      this.generation++;
      this.rows.delete(what.userId);
    });
  }

  /** The rows of `ids` that exist, from memory where fresh, the rest through `load` (one call for all). */
  async byIds(ids: string[], load: (missing: string[]) => Promise<UserRow[]>): Promise<UserRow[]> {
    const now = Date.now();
    const found: UserRow[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const entry = this.rows.get(id);
      if (entry && entry.expiresAt > now) found.push(entry.row);
      else missing.push(id);
    }
    if (!missing.length) return found;
    const generation = this.generation;
    const loaded = await load(missing);
    if (generation === this.generation) {
      for (const row of loaded) {
        if (this.rows.size >= MAX_ENTRIES) this.rows.delete(this.rows.keys().next().value!);
        this.rows.set(row.id, { row, expiresAt: now + TTL_MS });
      }
    }
    return found.concat(loaded);
  }
}

export const userRowCache = new UserRowCache();
