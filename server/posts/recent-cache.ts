import type { EventBus, ServerEvent } from '../realtime/events.ts';

// Events after which a channel's cached pages are stale.
const channelWrites = new Set(['posted', 'post_edited', 'post_deleted', 'reaction_added', 'reaction_removed', 'channel_updated', 'channel_deleted', 'channel_restored']);

interface Entry {
  version: number;
  /** UTF-8 bytes, encoded once rather than on every response. */
  body: Buffer;
}

/**
 * The newest page of each busy channel, already serialized. Opening a channel is the most frequent
 * request a chat server gets; PostgreSQL saturates at about a thousand 60-post page reads a second on
 * this hardware, so the page is served from memory until the channel changes. Every committed write
 * to a channel publishes an event, and the event drops the channel's pages (and bumps its version, so a
 * read that raced with the write cannot store a stale page).
 */
export class RecentPostsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly versions = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(events: EventBus, maxEntries = 5000) {
    this.maxEntries = maxEntries;
    events.subscribe((event) => this.onEvent(event));
  }

  private onEvent(event: ServerEvent): void {
    if (!channelWrites.has(event.event)) return;
    const channelId = event.broadcast.channel_id || (event.data.channel_id as string | undefined);
    if (channelId) this.invalidate(channelId);
    else this.clear();
  }

  invalidate(channelId: string): void {
    this.versions.set(channelId, (this.versions.get(channelId) ?? 0) + 1);
    for (const key of this.entries.keys()) if (key.startsWith(channelId)) this.entries.delete(key);
  }

  clear(): void {
    for (const channelId of new Set([...this.entries.keys()].map((k) => k.slice(0, 26)))) this.invalidate(channelId);
  }

  /** The cached body for (channel, variant), or the result of `load`, stored unless the channel changed meanwhile. */
  async get(channelId: string, variant: string, load: () => Promise<string>): Promise<Buffer> {
    const key = `${channelId}:${variant}`;
    const version = this.versions.get(channelId) ?? 0;
    const hit = this.entries.get(key);
    if (hit && hit.version === version) {
      // Re-insert to keep the map in least-recently-used order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.body;
    }
    const body = Buffer.from(await load());
    if ((this.versions.get(channelId) ?? 0) === version) {
      this.entries.set(key, { version, body });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return body;
  }
}
