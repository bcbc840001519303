import type { Knex } from 'knex';

/** Current members of a channel or team, as loaded at `loadedAt`. */
export interface Members {
  userIds: ReadonlySet<string>;
  /** The channel is archived or gone (teams: always false). */
  archived: boolean;
  loadedAt: number;
}

interface Load {
  promise: Promise<Members>;
  /** False once the key was invalidated while loading: the result is used once, never cached. */
  current: boolean;
}

export interface MembershipCacheOptions {
  /** Entries older than this are reloaded, a safety net behind event-driven invalidation. */
  ttlMs: number;
  /** Least recently used entries beyond this many are forgotten. */
  maxEntries: number;
}

/**
 * Who belongs to a channel (table channel_members) or a team (team_members with delete_at = 0),
 * cached for routing WebSocket events. Membership changes invalidate entries (see the hub), and a
 * load that overlaps an invalidation is never cached, so a removed user stops receiving at once.
 */
export class MembershipCache {
  private readonly db: Knex;
  private readonly options: MembershipCacheOptions;
  private readonly entries = new Map<string, Members>();
  private readonly loads = new Map<string, Load>();

  constructor(db: Knex, options: MembershipCacheOptions) {
    this.db = db;
    this.options = options;
  }

  /** Members of a channel: synchronously when cached, else a promise. */
  channel(channelId: string): Members | Promise<Members> {
    return this.get(`c${channelId}`, () => this.loadChannel(channelId));
  }

  /** Active members of a team: synchronously when cached, else a promise. */
  team(teamId: string): Members | Promise<Members> {
    return this.get(`t${teamId}`, () => this.loadTeam(teamId));
  }

  invalidateChannel(channelId: string): void {
    this.invalidate(`c${channelId}`);
  }

  invalidateTeam(teamId: string): void {
    this.invalidate(`t${teamId}`);
  }

  /** Forgets every entry that lists the user, and every load in flight (it may have read them). */
  invalidateUser(userId: string): void {
    for (const [key, entry] of this.entries) if (entry.userIds.has(userId)) this.entries.delete(key);
    this.abandonLoads();
  }

  clear(): void {
    this.entries.clear();
    this.abandonLoads();
  }

  get size(): number {
    return this.entries.size;
  }

  private get(key: string, loader: () => Promise<Members>): Members | Promise<Members> {
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.loadedAt < this.options.ttlMs) {
      // Re-inserting keeps Map order = least recently used first.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const running = this.loads.get(key);
    if (running) return running.promise;
    const load = { current: true } as Load;
    load.promise = loader().then(
      (members) => {
        if (this.loads.get(key) === load) this.loads.delete(key);
        if (load.current) this.store(key, members);
        return members;
      },
      (err: unknown) => {
        if (this.loads.get(key) === load) this.loads.delete(key);
        throw err;
      },
    );
    this.loads.set(key, load);
    return load.promise;
  }

  private store(key: string, members: Members): void {
    this.entries.delete(key);
    this.entries.set(key, members);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private invalidate(key: string): void {
    this.entries.delete(key);
    const load = this.loads.get(key);
    if (load) {
      load.current = false;
      this.loads.delete(key);
    }
  }

  private abandonLoads(): void {
    for (const load of this.loads.values()) load.current = false;
    this.loads.clear();
  }

  private async loadChannel(channelId: string): Promise<Members> {
    const loadedAt = Date.now();
    const rows: { delete_at: number; user_id: string | null }[] = await this.db('channels as c')
      .leftJoin('channel_members as cm', 'cm.channel_id', 'c.id')
      .where('c.id', channelId)
      .select('c.delete_at', 'cm.user_id');
    if (rows.length === 0) return { userIds: new Set(), archived: true, loadedAt };
    const userIds = new Set<string>();
    for (const row of rows) if (row.user_id) userIds.add(row.user_id);
    return { userIds, archived: rows[0].delete_at !== 0, loadedAt };
  }

  private async loadTeam(teamId: string): Promise<Members> {
    const loadedAt = Date.now();
    const userIds: string[] = await this.db('team_members').where({ team_id: teamId, delete_at: 0 }).pluck('user_id');
    return { userIds: new Set(userIds), archived: false, loadedAt };
  }
}
