import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { Permission } from '../auth/permissions.ts';
import { authorize } from '../auth/policy.ts';
import type { EventBus, ServerEvent } from '../realtime/events.ts';
import { loadChannelAccess, type ChannelAccess } from './access.ts';

// Events that change who may do what in a channel: membership, roles, archiving, team membership.
const channelScoped = new Set(['user_added', 'user_removed', 'channel_deleted', 'channel_restored', 'channel_updated', 'channel_member_updated']);
const teamScoped = new Set(['leave_team', 'added_to_team', 'delete_team', 'update_team', 'memberrole_updated', 'update_team_scheme']);

const TTL_MS = 10_000;
const MAX_ENTRIES = 50_000;

/**
 * Authorization inputs (a channel and the actor's memberships) for hot read paths, for a few seconds.
 * Membership and role changes publish events that drop the affected entries at once; the TTL bounds
 * anything else. Only the permission decision uses it: counters shown to clients are read fresh.
 */
export class ChannelAccessCache {
  private readonly entries = new Map<string, { access: ChannelAccess; expiresAt: number }>();

  constructor(events: EventBus) {
    events.subscribe((event) => this.onEvent(event));
  }

  private onEvent(event: ServerEvent): void {
    if (teamScoped.has(event.event)) {
      this.entries.clear();
      return;
    }
    if (!channelScoped.has(event.event)) return;
    const channelId = (event.data.channel_id as string | undefined) || event.broadcast.channel_id;
    if (!channelId) {
      this.entries.clear();
      return;
    }
    for (const key of this.entries.keys()) if (key.startsWith(channelId)) this.entries.delete(key);
  }

  /** Like `authorizeChannel`, served from memory when a fresh entry exists. */
  async authorize(db: Knex, actor: Actor, channelId: string, permission: Permission): Promise<ChannelAccess> {
    const key = `${channelId}:${actor.userId}`;
    const now = Date.now();
    let entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= now) {
      entry = { access: await loadChannelAccess(db, actor, channelId), expiresAt: now + TTL_MS };
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    authorize(actor, permission, entry.access.resource);
    return entry.access;
  }
}
