/** Who receives an event, in Mattermost's broadcast shape. */
export interface Broadcast {
  /** Only this user. */
  user_id?: string;
  /** Members of this channel (the hub resolves membership at delivery time). */
  channel_id?: string;
  /** Members of this team. */
  team_id?: string;
  /** Users to leave out (e.g. the sender of a typing event). */
  omit_users?: Record<string, boolean> | null;
  /**
   * Mattermost's pair for events that exist in two versions: the sanitised one goes to everyone but
   * system admins, the sensitive one (e.g. `post_deleted` naming who deleted) to system admins only.
   * Neither flag is sent to clients.
   */
  contains_sanitized_data?: boolean;
  contains_sensitive_data?: boolean;
}

/** A server → client WebSocket event, before the per-connection `seq` is stamped on it. */
export interface ServerEvent {
  event: string;
  data: Record<string, unknown>;
  broadcast: Broadcast;
  /** Never sent to clients: a message between nodes (cache invalidation, session revocation). */
  internal?: boolean;
}

/**
 * Which events a listener hears. `cluster`: every event, whichever node published it — for delivery to
 * clients and cache invalidation. `origin`: only events published on this node — for side effects that
 * must happen once cluster-wide (outgoing webhooks).
 */
export type Scope = 'cluster' | 'origin';

type Listener = (event: ServerEvent) => void;

/** Carries events to the other nodes of a cluster (see cluster-relay.ts). */
export interface EventRelay {
  send(event: ServerEvent): void;
}

/**
 * Carries events from services to the WebSocket hub and caches. Services publish only after their
 * transaction commits (see `db/transaction.ts`), so clients never hear of a change that was rolled
 * back. With a relay attached, every event also reaches the other nodes' `cluster` listeners.
 */
export class EventBus {
  private readonly clusterListeners = new Set<Listener>();
  private readonly originListeners = new Set<Listener>();
  private relay?: EventRelay;

  publish(event: ServerEvent): void {
    for (const listener of this.clusterListeners) listener(event);
    for (const listener of this.originListeners) listener(event);
    this.relay?.send(event);
  }

  /** An event another node published, arriving through the relay. */
  receiveRemote(event: ServerEvent): void {
    for (const listener of this.clusterListeners) listener(event);
  }

  subscribe(listener: Listener, scope: Scope = 'cluster'): () => void {
    const set = scope === 'cluster' ? this.clusterListeners : this.originListeners;
    set.add(listener);
    return () => set.delete(listener);
  }

  attachRelay(relay: EventRelay | undefined): void {
    this.relay = relay;
  }
}
