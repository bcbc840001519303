import { sessionCache, type Forgotten } from '../auth/session-cache.ts';
import type { EventBus } from './events.ts';

const EVENT = 'custodian_sessions_forgotten';

/**
 * Keeps session caches coherent across nodes: every local invalidation (logout, revocation, role
 * change, deactivation) is announced as an internal event, and announcements from other nodes drop
 * the same cached entries here. WebSockets of revoked sessions on other nodes close at their hub's next
 * session check.
 */
export function shareSessionInvalidations(events: EventBus, origin: string): () => void {
  const offHook = sessionCache.onForget((what) => events.publish({ event: EVENT, internal: true, data: { ...what, origin }, broadcast: {} }));
  const offListen = events.subscribe((event) => {
    if (event.event !== EVENT || !event.internal || event.data.origin === origin) return;
    sessionCache.forgetQuietly(event.data as Forgotten);
  });
  return () => {
    offHook();
    offListen();
  };
}
