// Which posts and files retention would delete now: the policies turned into passes, each a SQL
// scope over `posts p LEFT JOIN channels c` with a cutoff. Precedence: a channel in a custom policy
// follows that policy; otherwise a channel whose team is in a custom policy follows the team's;
// everything else (direct and group messages included) follows the global policy. The purge job
// and the preview share this, so a preview says exactly what a run would do.
import type { Knex } from 'knex';
import type { CustomPolicy, GlobalPolicy } from './policies.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The policies in force (or proposed, for a preview). */
export interface RetentionPlan {
  global: Pick<GlobalPolicy, 'message_deletion_enabled' | 'message_retention_hours' | 'file_deletion_enabled' | 'file_retention_hours' | 'keep_pinned'>;
  policies: CustomPolicy[];
}

/** One pass of the post purge: the posts older than `cutoff` in `scope`. */
export interface PostPass {
  /** Stable across runs and restarts: 'global' or 'policy:<id>'. */
  key: string;
  policyId: string;
  cutoff: number;
  keepPinned: boolean;
  /** SQL over `p` (posts) and, when `needsChannel`, `c` (channels, left-joined; `COALESCE(c.team_id, '')` is the team). */
  scope: { sql: string; bindings: Knex.RawBinding[] };
  needsChannel: boolean;
}

/** The post passes of a plan at `now`; policies that keep forever have none (but still shield their channels from the global one). */
export function postPasses(plan: RetentionPlan, now: number): PostPass[] {
  const policyChannels = plan.policies.flatMap((p) => p.channel_ids);
  const policyTeams = plan.policies.flatMap((p) => p.team_ids);
  const passes: PostPass[] = [];
  for (const p of plan.policies) {
    if (p.post_duration < 0 || (p.channel_ids.length === 0 && p.team_ids.length === 0)) continue;
    const parts: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    if (p.channel_ids.length) {
      parts.push('p.channel_id = ANY(?::varchar[])');
      bindings.push(p.channel_ids);
    }
    if (p.team_ids.length) {
      parts.push("(COALESCE(c.team_id, '') = ANY(?::varchar[]) AND NOT (p.channel_id = ANY(?::varchar[])))");
      bindings.push(p.team_ids, policyChannels);
    }
    passes.push({ key: `policy:${p.id}`, policyId: p.id, cutoff: now - p.post_duration * DAY_MS, keepPinned: p.keep_pinned, scope: { sql: `(${parts.join(' OR ')})`, bindings }, needsChannel: p.team_ids.length > 0 });
  }
  if (plan.global.message_deletion_enabled) {
    passes.push({
      key: 'global', policyId: '', cutoff: now - plan.global.message_retention_hours * HOUR_MS, keepPinned: plan.global.keep_pinned,
      scope: policyTeams.length
        ? { sql: "(NOT (p.channel_id = ANY(?::varchar[])) AND NOT (COALESCE(c.team_id, '') = ANY(?::varchar[])))", bindings: [policyChannels, policyTeams] }
        : { sql: 'NOT (p.channel_id = ANY(?::varchar[]))', bindings: [policyChannels] },
      needsChannel: policyTeams.length > 0,
    });
  }
  return passes;
}

/** Files older than this go (global file policy), or undefined when file deletion is off. */
export function fileCutoff(plan: RetentionPlan, now: number): number | undefined {
  return plan.global.file_deletion_enabled ? now - plan.global.file_retention_hours * HOUR_MS : undefined;
}
