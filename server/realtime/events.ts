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
}

/** A server → client WebSocket event, before the per-connection `seq` is stamped on it. */
export interface ServerEvent {
  event: string;
  data: Record<string, unknown>;
  broadcast: Broadcast;
}

type Listener = (event: ServerEvent) => void;

/**
 * Carries events from services to the WebSocket hub. Services publish only after their transaction
 * commits (see `db/transaction.ts`), so clients never hear of a change that was rolled back.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  publish(event: ServerEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
