// "What would this policy delete now": the purge's own passes and hold predicate, counted instead of
// deleted, per channel and per team, with what holds and keep-pinned would spare.
import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { fileHeldSql, heldSql } from '../../compliance/holds/coverage.ts';
import { fileCutoff, postPasses, type PostPass, type RetentionPlan } from './plan.ts';
import { readCustomPolicies, readGlobalPolicy, type CustomPolicy } from './policies.ts';

/** A proposed change to preview: the global policy, or one custom policy (new, or an existing one changed). */
export interface PreviewProposal {
  global?: Partial<RetentionPlan['global']>;
  policy?: { id?: string; post_duration: number; keep_pinned?: boolean; team_ids?: string[]; channel_ids?: string[] };
}

export interface ChannelPreview {
  channel_id: string;
  channel_name: string;
  channel_display_name: string;
  channel_type: string;
  team_id: string;
  team_name: string;
  pass: string;
  posts: number;
  files: number;
  oldest: number;
  newest: number;
  held_excluded: number;
  pinned_excluded: number;
}

export interface RetentionPreview {
  now: number;
  passes: { key: string; policy_id: string; cutoff: number; keep_pinned: boolean }[];
  totals: { posts: number; files: number; oldest: number; newest: number; held_excluded: number; pinned_excluded: number };
  teams: { team_id: string; team_name: string; posts: number; files: number; oldest: number; newest: number; held_excluded: number; pinned_excluded: number }[];
  channels: ChannelPreview[];
  file_deletion: { enabled: boolean; cutoff: number; files: number; bytes: number; held_excluded: number };
}

/** The plan in force, with a proposal applied; returns the pass keys the proposal touches (all when none). */
export async function planWithProposal(db: Knex | Knex.Transaction, proposal: PreviewProposal): Promise<{ plan: RetentionPlan; only?: Set<string>; files: boolean }> {
  const global = await readGlobalPolicy(db);
  let policies = await readCustomPolicies(db);
  const plan: RetentionPlan = { global: { ...global, ...proposal.global }, policies };
  if (!proposal.policy) return { plan, only: proposal.global ? new Set(['global']) : undefined, files: true };
  const existing = proposal.policy.id ? policies.find((p) => p.id === proposal.policy!.id) : undefined;
  const proposed: CustomPolicy = {
    id: existing?.id ?? 'proposed',
    display_name: existing?.display_name ?? 'proposed',
    post_duration: proposal.policy.post_duration,
    keep_pinned: proposal.policy.keep_pinned ?? existing?.keep_pinned ?? false,
    team_ids: proposal.policy.team_ids ?? existing?.team_ids ?? [],
    channel_ids: proposal.policy.channel_ids ?? existing?.channel_ids ?? [],
  };
  // The proposal takes its teams and channels from whatever policy has them now.
  policies = policies
    .filter((p) => p.id !== proposed.id)
    .map((p) => ({ ...p, team_ids: p.team_ids.filter((t) => !proposed.team_ids.includes(t)), channel_ids: p.channel_ids.filter((c) => !proposed.channel_ids.includes(c)) }));
  plan.policies = [...policies, proposed];
  return { plan, only: new Set([`policy:${proposed.id}`, ...(proposal.global ? ['global'] : [])]), files: Boolean(proposal.global) };
}

interface PassRow {
  channel_id: string;
  posts: string;
  files: string;
  oldest: string | null;
  newest: string | null;
  held: string;
  pinned: string;
}

async function previewPass(db: Knex | Knex.Transaction, pass: PostPass): Promise<PassRow[]> {
  const held = heldSql({ user: 'p.user_id', channel: 'p.channel_id', at: 'p.create_at', post: { id: 'p.id', vector: 'p.search_vector' } });
  const result = await db.raw(
    `SELECT channel_id,
            count(*) FILTER (WHERE NOT held AND NOT kept) AS posts,
            coalesce(sum(files) FILTER (WHERE NOT held AND NOT kept), 0) AS files,
            min(create_at) FILTER (WHERE NOT held AND NOT kept) AS oldest,
            max(create_at) FILTER (WHERE NOT held AND NOT kept) AS newest,
            count(*) FILTER (WHERE held) AS held,
            count(*) FILTER (WHERE kept AND NOT held) AS pinned
     FROM (SELECT p.channel_id, p.create_at, jsonb_array_length(p.file_ids) AS files, (? AND p.is_pinned) AS kept, ${held.sql} AS held
           FROM posts p LEFT JOIN channels c ON c.id = p.channel_id
           WHERE p.create_at < ? AND ${pass.scope.sql}) x
     GROUP BY channel_id`,
    [pass.keepPinned, ...held.bindings, pass.cutoff, ...pass.scope.bindings],
  );
  return result.rows as PassRow[];
}

async function previewFiles(db: Knex | Knex.Transaction, cutoff: number, keepPinned: boolean): Promise<{ files: number; bytes: number; held: number }> {
  const held = fileHeldSql({ postId: 'f.post_id', creator: 'f.creator_id', channel: 'f.channel_id', at: 'f.create_at' });
  const result = await db.raw(
    `SELECT count(*) FILTER (WHERE NOT held AND NOT kept) AS files, coalesce(sum(size) FILTER (WHERE NOT held AND NOT kept), 0) AS bytes, count(*) FILTER (WHERE held) AS held
     FROM (SELECT f.size, ${held.sql} AS held,
                  (? AND EXISTS (SELECT 1 FROM posts pp WHERE pp.id = f.post_id AND pp.is_pinned)) AS kept
           FROM file_infos f WHERE f.create_at < ?) x`,
    [...held.bindings, keepPinned, cutoff],
  );
  const row = result.rows[0];
  return { files: Number(row.files), bytes: Number(row.bytes), held: Number(row.held) };
}

/** Counts what the plan in force, with `proposal` applied, would delete at `now`. Deletes nothing. */
export async function previewRetention(db: Knex | Knex.Transaction, actor: Actor | undefined, proposal: PreviewProposal, now: number): Promise<RetentionPreview> {
  if (actor) authorize(actor, 'manage_data_retention', { kind: 'system' });
  const { plan, only, files } = await planWithProposal(db, proposal);
  const passes = postPasses(plan, now).filter((p) => !only || only.has(p.key));
  const channels: ChannelPreview[] = [];
  for (const pass of passes) {
    for (const row of await previewPass(db, pass)) {
      channels.push({
        channel_id: row.channel_id, channel_name: '', channel_display_name: '', channel_type: '', team_id: '', team_name: '', pass: pass.key,
        posts: Number(row.posts), files: Number(row.files), oldest: Number(row.oldest ?? 0), newest: Number(row.newest ?? 0), held_excluded: Number(row.held), pinned_excluded: Number(row.pinned),
      });
    }
  }
  const names = channels.length
    ? ((await db('channels as c').leftJoin('teams as t', 't.id', 'c.team_id').whereIn('c.id', channels.map((c) => c.channel_id)).select('c.id', 'c.name', 'c.display_name', 'c.type', 'c.team_id', 't.name as team_name')) as { id: string; name: string; display_name: string; type: string; team_id: string; team_name: string | null }[])
    : [];
  const byId = new Map(names.map((n) => [n.id, n]));
  for (const c of channels) {
    const n = byId.get(c.channel_id);
    if (n) Object.assign(c, { channel_name: n.name, channel_display_name: n.display_name, channel_type: n.type, team_id: n.team_id, team_name: n.team_name ?? '' });
  }
  channels.sort((a, b) => b.posts - a.posts || a.channel_id.localeCompare(b.channel_id));
  const sum = (rows: ChannelPreview[]) => {
    const live = rows.filter((r) => r.posts > 0);
    return {
      posts: rows.reduce((n, r) => n + r.posts, 0), files: rows.reduce((n, r) => n + r.files, 0),
      oldest: live.length ? Math.min(...live.map((r) => r.oldest)) : 0, newest: live.length ? Math.max(...live.map((r) => r.newest)) : 0,
      held_excluded: rows.reduce((n, r) => n + r.held_excluded, 0), pinned_excluded: rows.reduce((n, r) => n + r.pinned_excluded, 0),
    };
  };
  const teamIds = [...new Set(channels.map((c) => c.team_id))];
  const teams = teamIds.map((teamId) => {
    const rows = channels.filter((c) => c.team_id === teamId);
    return { team_id: teamId, team_name: rows[0].team_name, ...sum(rows) };
  });
  const cutoff = files ? fileCutoff(plan, now) : undefined;
  const fileCounts = cutoff !== undefined ? await previewFiles(db, cutoff, plan.global.keep_pinned) : { files: 0, bytes: 0, held: 0 };
  return {
    now,
    passes: passes.map((p) => ({ key: p.key, policy_id: p.policyId, cutoff: p.cutoff, keep_pinned: p.keepPinned })),
    totals: sum(channels),
    teams,
    channels,
    file_deletion: { enabled: cutoff !== undefined, cutoff: cutoff ?? 0, files: fileCounts.files, bytes: fileCounts.bytes, held_excluded: fileCounts.held },
  };
}
