import type { UserRow } from '../users/presenter.ts';
import type { SessionRow } from './sessions.ts';

interface Entry {
  session: SessionRow;
  user: UserRow;
  expiresAt: number;
}

const TTL_MS = 10_000;
const MAX_ENTRIES = 50_000;

/**
 * Resolved sessions for a few seconds, so a client's burst of requests costs one database lookup. Every
 * revocation, deactivation and role change in this process drops the affected entries at once; another
 * node's change reaches this cache within the TTL (cluster-wide invalidation rides on the event relay).
 */
class SessionCache {
  private readonly byHash = new Map<string, Entry>();

  get(tokenHash: string, now: number): { session: SessionRow; user: UserRow } | undefined {
    const entry = this.byHash.get(tokenHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= now || entry.session.expires_at <= now) {
      this.byHash.delete(tokenHash);
      return undefined;
    }
    return entry;
  }

  set(tokenHash: string, session: SessionRow, user: UserRow, now: number): void {
    if (this.byHash.size >= MAX_ENTRIES) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(tokenHash, { session, user, expiresAt: now + TTL_MS });
  }

  forgetSession(sessionId: string): void {
    for (const [hash, entry] of this.byHash) if (entry.session.id === sessionId) this.byHash.delete(hash);
  }

  forgetUser(userId: string): void {
    for (const [hash, entry] of this.byHash) if (entry.user.id === userId) this.byHash.delete(hash);
  }

  forgetToken(tokenHash: string): void {
    this.byHash.delete(tokenHash);
  }
}

export const sessionCache = new SessionCache();
