import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { Permission } from '../auth/permissions.ts';
import { authorize } from '../auth/policy.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import { loadChannelAccess, type ChannelAccess } from './access.ts';

// Events that change who may do what in a channel: membership, roles, archiving, privacy, team membership.
const channelScoped = new Set(['user_added', 'user_removed', 'channel_deleted', 'channel_restored', 'channel_updated', 'channel_converted', 'channel_member_updated']);
const teamScoped = new Set(['leave_team', 'added_to_team', 'delete_team', 'restore_team', 'update_team', 'memberrole_updated', 'update_team_scheme']);

// Every change that narrows access publishes one of the events above, which reach every node through
// the relay; the TTL only bounds what a lost relay message could leave behind. A minute covers the
// usual gap between a client's channel switches (it views the channel it leaves).
const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  access: ChannelAccess;
  expiresAt: number;
}

/** The entries of every `ChannelAccessCache` made for one event bus (one server). */
class AccessEntries {
  // By channel, then user: a channel's event drops its entries without scanning the others.
  private readonly byChannel = new Map<string, Map<string, Entry>>();
  private size = 0;
  // Bumped by every invalidation: a load that overlapped one is used once but not kept.
  private generation = 0;

  constructor(events: EventBus) {
    events.subscribe((event) => this.onEvent(event));
  }

  private onEvent(event: ServerEvent): void {
    if (teamScoped.has(event.event)) return this.clear();
    if (!channelScoped.has(event.event)) return;
    const channelId = (event.data.channel_id as string | undefined) || event.broadcast.channel_id;
    if (!channelId) return this.clear();
    this.generation++;
    const entries = this.byChannel.get(channelId);
    if (!entries) return;
    this.size -= entries.size;
    this.byChannel.delete(channelId);
  }

  private clear(): void {
    this.generation++;
    this.byChannel.clear();
    this.size = 0;
  }

  async authorize(db: Knex, actor: Actor, channelId: string, permission: Permission): Promise<ChannelAccess> {
    const now = Date.now();
    let entry = this.byChannel.get(channelId)?.get(actor.userId);
    if (!entry || entry.expiresAt <= now) {
      const generation = this.generation;
      entry = { access: await loadChannelAccess(db, actor, channelId), expiresAt: now + TTL_MS };
      if (generation === this.generation) this.store(channelId, actor.userId, entry);
    }
    authorize(actor, permission, entry.access.resource);
    return entry.access;
  }

  private store(channelId: string, userId: string, entry: Entry): void {
    if (this.size >= MAX_ENTRIES) {
      const [oldest, dropped] = this.byChannel.entries().next().value!;
      this.byChannel.delete(oldest);
      this.size -= dropped.size;
    }
    let entries = this.byChannel.get(channelId);
    if (!entries) this.byChannel.set(channelId, (entries = new Map()));
    if (!entries.has(userId)) this.size++;
    entries.set(userId, entry);
  }
}

const shared = new WeakMap<EventBus, AccessEntries>();

/**
 * Authorization inputs (a channel and the actor's memberships) for hot read paths, for a minute.
 * Membership and role changes publish events that drop the affected entries at once, on every node
 * (the bus hears other nodes' events through the cluster relay); the TTL bounds anything else. Only
 * the permission decision uses it: counters shown to clients are read fresh. Every cache made for one
 * bus shares its entries, so the stats and view requests of a channel switch find the access its page
 * load (posts routes) just read.
 */
export class ChannelAccessCache {
  private readonly entries: AccessEntries;

  constructor(events: EventBus) {
    let entries = shared.get(events);
    if (!entries) shared.set(events, (entries = new AccessEntries(events)));
    this.entries = entries;
  }

  /** Like `authorizeChannel`, served from memory when a fresh entry exists. */
  authorize(db: Knex, actor: Actor, channelId: string, permission: Permission): Promise<ChannelAccess> {
    return this.entries.authorize(db, actor, channelId, permission);
  }
}
