import type { UserRow } from '../users/presenter.ts';
import type { SessionRow } from './sessions.ts';

interface Entry {
  session: SessionRow;
  user: UserRow;
  expiresAt: number;
}

/** What an invalidation dropped; announced so other nodes drop the same entries. */
export interface Forgotten {
  userId?: string;
  sessionId?: string;
  tokenHash?: string;
}

// Every change that ends or alters a session or its user drops entries at once on every node (the
// relay carries the invalidation); the TTL only bounds what a lost relay message could leave behind.
const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * Resolved sessions for a minute, so a client's requests cost one database lookup a minute. Every
 * revocation, deactivation, role or profile change drops the affected entries at once, here and (through
 * the event relay, realtime/cluster-sessions.ts) on the other nodes.
 */
class SessionCache {
  private readonly byHash = new Map<string, Entry>();
  private readonly hooks = new Set<(what: Forgotten) => void>();
  private readonly dropHooks = new Set<(what: Forgotten) => void>();

  /** Calls `hook` after every local invalidation (the cluster relay announces them to other nodes). */
  onForget(hook: (what: Forgotten) => void): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /**
   * Calls `hook` after every invalidation, this node's or another's: caches of data derived from users
   * (users/user-cache.ts) drop their entries with the sessions.
   */
  onDrop(hook: (what: Forgotten) => void): () => void {
    this.dropHooks.add(hook);
    return () => this.dropHooks.delete(hook);
  }

  /** Applies an invalidation announced by another node, without announcing it again. */
  forgetQuietly(what: Forgotten): void {
    if (what.tokenHash && !what.sessionId && !what.userId) this.byHash.delete(what.tokenHash);
    else {
      for (const [hash, entry] of this.byHash) {
        if (hash === what.tokenHash || entry.session.id === what.sessionId || entry.user.id === what.userId) this.byHash.delete(hash);
      }
    }
    for (const hook of this.dropHooks) hook(what);
  }

  private forget(what: Forgotten): void {
    this.forgetQuietly(what);
    for (const hook of this.hooks) hook(what);
  }

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
    this.forget({ sessionId });
  }

  forgetUser(userId: string): void {
    this.forget({ userId });
  }

  forgetToken(tokenHash: string): void {
    this.forget({ tokenHash });
  }
}

export const sessionCache = new SessionCache();
