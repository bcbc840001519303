// The outgoing webhooks of each team, cached: every post in a public channel needs them, and they
// change rarely. A change (create, update, delete, new token) is announced on the event bus after it
// commits, which reaches every node; an entry also expires after a minute, so a change made around
// this code (SQL by hand) is picked up without a restart.
import type { Knex } from 'knex';
import type { EventBus } from '../realtime/events.ts';
import type { OutgoingWebhookRow } from './outgoing-webhooks.ts';

const CHANGED = 'custodian_outgoing_hooks_changed';
const MAX_TEAMS = 10_000;
const TTL_MS = 60_000;

/** Tells every node's cache that a team's outgoing webhooks changed (call after the change commits). */
export function announceOutgoingHooksChanged(events: EventBus, teamId: string): void {
  events.publish({ event: CHANGED, internal: true, data: { team_id: teamId }, broadcast: {} });
}

export class OutgoingHookCache {
  private readonly entries = new Map<string, { hooks: OutgoingWebhookRow[]; at: number }>();
  /** Moves on every change, so a lookup that started before a change does not store what it read. */
  private generation = 0;
  private readonly unsubscribe: () => void;
  private readonly db: Knex;

  constructor(db: Knex, events: EventBus) {
    this.db = db;
    this.unsubscribe = events.subscribe((event) => {
      if (event.event !== CHANGED || !event.internal) return;
      this.generation += 1;
      this.entries.delete(String(event.data.team_id ?? ''));
    });
  }

  async forTeam(teamId: string): Promise<OutgoingWebhookRow[]> {
    const cached = this.entries.get(teamId);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.hooks;
    const generation = this.generation;
    const hooks = (await this.db('outgoing_webhooks').where({ team_id: teamId, delete_at: 0 })) as OutgoingWebhookRow[];
    if (generation === this.generation) {
      if (this.entries.size >= MAX_TEAMS) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(teamId, { hooks, at: Date.now() });
    }
    return hooks;
  }

  stop(): void {
    this.unsubscribe();
    this.entries.clear();
  }
}
