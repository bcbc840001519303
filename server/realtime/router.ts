import type { Logger } from '../lib/logger.ts';
import type { Connection, DeliveryLimits } from './connection.ts';
import type { ConnectionIndex } from './connection-index.ts';
import type { ServerEvent } from './events.ts';
import type { Members, MembershipCache } from './membership.ts';
import { eventHead } from './wire.ts';

// Events a busy or absent client can do without (Mattermost drops the same ones for slow clients).
const droppableEvents = new Set(['typing', 'status_change', 'multiple_channels_viewed']);
// After writing this much in one go, dispatch lets sockets flush before the next event, so a burst
// does not make readers that keep up look like slow consumers.
const BURST_CHARS = 1024 * 1024;

/** Told when an event has been written to every recipient: its name, ms since it was queued, frames written. */
export type DeliveryObserver = (event: string, lagMs: number, frames: number) => void;

/** An event waiting for delivery: when it was queued (performance.now) and its audience, looked up at enqueue. */
interface Queued {
  event: ServerEvent;
  queuedAt: number;
  audience?: Members | Promise<Members>;
}

/**
 * Delivers events to connections, one at a time in publish order (a membership lookup may wait for
 * the database, and later events must not overtake it). Each event's audience is looked up when it is
 * queued, not when its turn comes: lookups that miss the cache run side by side, so a burst of events
 * for uncached channels waits for about one query rather than one query after another.
 *
 * Mattermost's rules: `broadcast.user_id` → that user's connections; else `channel_id` → current
 * channel members; else `team_id` → current team members; else every connection. `omit_users` always
 * applies (by key, as Mattermost does), and so do `contains_sensitive_data` (system admins only) and
 * `contains_sanitized_data` (everyone else). Each event is serialised once; recipients only add their `seq`.
 */
export class EventRouter {
  private readonly index: ConnectionIndex;
  private readonly members: MembershipCache;
  private readonly limits: DeliveryLimits;
  private readonly logger: Logger;
  private readonly maxQueued: number;
  private readonly onDelivered?: DeliveryObserver;
  private queue: Queued[] = [];
  /** Frames written for the event being routed. */
  private frames = 0;
  private dispatching = false;
  private burst = 0;
  private settledWaiters: (() => void)[] = [];

  constructor(deps: { index: ConnectionIndex; members: MembershipCache; limits: DeliveryLimits; logger: Logger; maxQueued: number; onDelivered?: DeliveryObserver }) {
    this.index = deps.index;
    this.members = deps.members;
    this.limits = deps.limits;
    this.logger = deps.logger;
    this.maxQueued = deps.maxQueued;
    this.onDelivered = deps.onDelivered;
  }

  get queued(): number {
    return this.queue.length;
  }

  enqueue(event: ServerEvent): void {
    if (this.queue.length >= this.maxQueued) {
      this.logger.warn({ event: event.event }, 'websocket event queue full: event dropped');
      return;
    }
    const audience = this.audienceOf(event);
    // A lookup that fails is reported when the event's turn comes; until then it must not count as unhandled.
    if (audience instanceof Promise) audience.catch(() => undefined);
    this.queue.push({ event, queuedAt: performance.now(), audience });
    if (this.dispatching) return;
    // Delivery starts on the event loop's next check phase, not inside the publisher's call: a post's
    // events are published after its commit, and writing 1,000 frames there (20-30 ms on 2 cores) held
    // back the poster's own HTTP response, which now goes out first. Publish order is kept (one queue).
    this.dispatching = true;
    setImmediate(() => void this.dispatch());
  }

  /** Resolves once every event queued so far has been delivered (or dropped). */
  settled(): Promise<void> {
    if (!this.dispatching && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  clear(): void {
    this.queue = [];
  }

  private async dispatch(): Promise<void> {
    try {
      let item: Queued | undefined;
      while ((item = this.queue.shift())) {
        const { event, queuedAt } = item;
        try {
          this.frames = 0;
          const waiting = this.route(item);
          if (waiting) await waiting;
          this.onDelivered?.(event.event, performance.now() - queuedAt, this.frames);
        } catch (err) {
          this.logger.error({ err, event: event.event }, 'could not deliver websocket event');
        }
        if (this.burst > BURST_CHARS) {
          this.burst = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.dispatching = false;
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    }
  }

  /** The channel or team members an event goes to (cached, or a lookup under way); undefined for the other broadcasts. */
  private audienceOf(event: ServerEvent): Members | Promise<Members> | undefined {
    const broadcast = event.broadcast ?? {};
    if (broadcast.user_id) return undefined;
    if (broadcast.channel_id) return this.members.channel(broadcast.channel_id);
    if (broadcast.team_id) return this.members.team(broadcast.team_id);
    return undefined;
  }

  private route({ event, audience }: Queued): Promise<void> | undefined {
    const broadcast = event.broadcast ?? {};
    if (broadcast.user_id) {
      this.deliver(event, this.index.forUser(broadcast.user_id));
      return undefined;
    }
    if (audience) return this.toMembers(event, audience);
    this.deliver(event, this.index.all());
    return undefined;
  }

  private toMembers(event: ServerEvent, found: Members | Promise<Members>): Promise<void> | undefined {
    if (found instanceof Promise) return found.then((members) => this.toMembers(event, members));
    const targets: Connection[] = [];
    if (found.userIds.size < this.index.userCount) {
      for (const userId of found.userIds) for (const conn of this.index.forUser(userId)) targets.push(conn);
    } else {
      for (const [userId, conns] of this.index.users()) if (found.userIds.has(userId)) targets.push(...conns);
    }
    this.deliver(event, targets);
    return undefined;
  }

  private deliver(event: ServerEvent, targets: Iterable<Connection>): void {
    const omit = event.broadcast?.omit_users;
    const adminsOnly = event.broadcast?.contains_sensitive_data === true;
    const exceptAdmins = event.broadcast?.contains_sanitized_data === true;
    const droppable = droppableEvents.has(event.event);
    let head: Buffer | undefined;
    for (const conn of targets) {
      if (omit && Object.hasOwn(omit, conn.userId)) continue;
      if (adminsOnly ? !conn.systemAdmin : exceptAdmins && conn.systemAdmin) continue;
      head ??= eventHead(event);
      const written = conn.deliver(head, droppable, this.limits);
      this.burst += written;
      if (written > 0) this.frames++;
    }
  }
}
