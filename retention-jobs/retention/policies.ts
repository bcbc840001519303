// Retention policies: the global policy and custom policies on teams and channels (Mattermost's
// model). Precedence, applied by plan.ts: a channel's policy, else its team's, else the global one.
import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { presentChannel, type ChannelRow } from '../../server/channels/model.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../server/lib/errors.ts';
import { newId } from '../../server/lib/ids.ts';
import { presentTeam, type TeamRow } from '../../server/teams/model.ts';

type Db = Knex | Knex.Transaction;
const system = { kind: 'system' } as const;
const HOUR_MS = 3_600_000;

/** The retention_global_policy row. */
export interface GlobalPolicy {
  message_deletion_enabled: boolean;
  message_retention_hours: number;
  file_deletion_enabled: boolean;
  file_retention_hours: number;
  keep_pinned: boolean;
  update_at: number;
  updated_by: string;
}

/** A custom policy with where it applies. post_duration is in days; -1 keeps forever. */
export interface CustomPolicy {
  id: string;
  display_name: string;
  post_duration: number;
  keep_pinned: boolean;
  team_ids: string[];
  channel_ids: string[];
}

export interface GlobalPolicyChange {
  message_deletion_enabled?: boolean;
  message_retention_hours?: number;
  file_deletion_enabled?: boolean;
  file_retention_hours?: number;
  keep_pinned?: boolean;
}

export interface NewCustomPolicy {
  display_name: string;
  post_duration: number;
  keep_pinned: boolean;
  team_ids: string[];
  channel_ids: string[];
}

export type CustomPolicyPatch = Partial<Pick<NewCustomPolicy, 'display_name' | 'post_duration' | 'keep_pinned'>>;

function policyNotFound(): NotFoundError {
  return new NotFoundError('app.data_retention.policy.not_found.app_error', 'Unable to find the data retention policy.');
}

export async function readGlobalPolicy(db: Db): Promise<GlobalPolicy> {
  const row = await db('retention_global_policy').where({ id: 1 }).first();
  return { ...row, update_at: Number(row.update_at) } as GlobalPolicy;
}

/** Mattermost's DataRetentionPolicy (cutoffs are "delete what is older than this", 0 when off), plus Custodian's settings. */
export function presentGlobalPolicy(p: GlobalPolicy, now = nowMs()): Record<string, unknown> {
  return {
    message_deletion_enabled: p.message_deletion_enabled,
    file_deletion_enabled: p.file_deletion_enabled,
    message_retention_cutoff: p.message_deletion_enabled ? now - p.message_retention_hours * HOUR_MS : 0,
    file_retention_cutoff: p.file_deletion_enabled ? now - p.file_retention_hours * HOUR_MS : 0,
    boards_retention_cutoff: 0,
    boards_deletion_enabled: false,
    message_retention_hours: p.message_retention_hours,
    file_retention_hours: p.file_retention_hours,
    keep_pinned: p.keep_pinned,
    update_at: p.update_at,
  };
}

export async function getGlobalPolicy(db: Db, actor: Actor): Promise<GlobalPolicy> {
  authorize(actor, 'manage_data_retention', system);
  return readGlobalPolicy(db);
}

/** Changes the global policy (Custodian has no config screen for it: this is the API that sets it). */
export async function setGlobalPolicy(trx: Knex.Transaction, actor: Actor, change: GlobalPolicyChange): Promise<{ before: GlobalPolicy; after: GlobalPolicy }> {
  authorize(actor, 'manage_data_retention', system);
  const before = (await trx('retention_global_policy').where({ id: 1 }).forUpdate().first()) as GlobalPolicy;
  await trx('retention_global_policy').where({ id: 1 }).update({ ...change, update_at: nowMs(), updated_by: actor.userId });
  return { before, after: await readGlobalPolicy(trx) };
}

/** Every custom policy with its teams and channels (the purge plan reads them all). */
export async function readCustomPolicies(db: Db): Promise<CustomPolicy[]> {
  const policies = (await db('retention_policies').orderBy('create_at').select('id', 'display_name', 'post_duration', 'keep_pinned')) as Omit<CustomPolicy, 'team_ids' | 'channel_ids'>[];
  const teams = (await db('retention_policy_teams').select('policy_id', 'team_id')) as { policy_id: string; team_id: string }[];
  const channels = (await db('retention_policy_channels').select('policy_id', 'channel_id')) as { policy_id: string; channel_id: string }[];
  return policies.map((p) => ({
    ...p,
    team_ids: teams.filter((t) => t.policy_id === p.id).map((t) => t.team_id),
    channel_ids: channels.filter((c) => c.policy_id === p.id).map((c) => c.channel_id),
  }));
}

interface PolicyCountsRow {
  id: string;
  display_name: string;
  post_duration: number;
  keep_pinned: boolean;
  team_count: string | number;
  channel_count: string | number;
}

const withCounts = (db: Db) =>
  db('retention_policies as p').select(
    'p.id', 'p.display_name', 'p.post_duration', 'p.keep_pinned',
    db.raw('(SELECT count(*) FROM retention_policy_teams t WHERE t.policy_id = p.id) AS team_count'),
    db.raw('(SELECT count(*) FROM retention_policy_channels c WHERE c.policy_id = p.id) AS channel_count'),
  );

/** Mattermost's RetentionPolicyWithTeamAndChannelCounts, plus keep_pinned. */
export function presentPolicy(row: PolicyCountsRow): Record<string, unknown> {
  return { id: row.id, display_name: row.display_name, post_duration: row.post_duration, team_count: Number(row.team_count), channel_count: Number(row.channel_count), keep_pinned: row.keep_pinned };
}

async function policyWithCounts(db: Db, id: string): Promise<PolicyCountsRow> {
  const row = (await withCounts(db).where('p.id', id).first()) as PolicyCountsRow | undefined;
  if (!row) throw policyNotFound();
  return row;
}

export async function listPolicies(db: Db, actor: Actor, page: number, perPage: number): Promise<{ policies: PolicyCountsRow[]; total_count: number }> {
  authorize(actor, 'manage_data_retention', system);
  const policies = (await withCounts(db).orderBy([{ column: 'p.display_name' }, { column: 'p.id' }]).offset(page * perPage).limit(perPage)) as PolicyCountsRow[];
  const total = Number((await db('retention_policies').count({ n: '*' }))[0].n);
  return { policies, total_count: total };
}

export async function getPolicy(db: Db, actor: Actor, id: string): Promise<PolicyCountsRow> {
  authorize(actor, 'manage_data_retention', system);
  return policyWithCounts(db, id);
}

async function assertExists(trx: Db, table: 'teams' | 'channels', ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await trx(table).whereIn('id', ids).select('id')).map((r: { id: string }) => r.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw new InvalidInputError(`api.data_retention.${table}.not_found.app_error`, `Some ${table} do not exist.`, missing.join(','));
}

/** Adds teams to a policy; a team already in another policy is a conflict (a team has one policy). */
async function addTeams(trx: Knex.Transaction, policyId: string, teamIds: string[]): Promise<void> {
  const ids = [...new Set(teamIds)];
  await assertExists(trx, 'teams', ids);
  const taken = (await trx('retention_policy_teams').whereIn('team_id', ids).whereNot({ policy_id: policyId }).select('team_id')) as { team_id: string }[];
  if (taken.length) throw new ConflictError('api.data_retention.team.other_policy.app_error', 'Some teams already belong to another retention policy.', taken.map((t) => t.team_id).join(','));
  if (ids.length) await trx('retention_policy_teams').insert(ids.map((team_id) => ({ team_id, policy_id: policyId }))).onConflict('team_id').ignore();
}

async function addChannels(trx: Knex.Transaction, policyId: string, channelIds: string[]): Promise<void> {
  const ids = [...new Set(channelIds)];
  await assertExists(trx, 'channels', ids);
  const taken = (await trx('retention_policy_channels').whereIn('channel_id', ids).whereNot({ policy_id: policyId }).select('channel_id')) as { channel_id: string }[];
  if (taken.length) throw new ConflictError('api.data_retention.channel.other_policy.app_error', 'Some channels already belong to another retention policy.', taken.map((c) => c.channel_id).join(','));
  if (ids.length) await trx('retention_policy_channels').insert(ids.map((channel_id) => ({ channel_id, policy_id: policyId }))).onConflict('channel_id').ignore();
}

export async function createPolicy(trx: Knex.Transaction, actor: Actor, input: NewCustomPolicy): Promise<PolicyCountsRow> {
  authorize(actor, 'manage_data_retention', system);
  const now = nowMs();
  const id = newId();
  await trx('retention_policies').insert({ id, display_name: input.display_name, post_duration: input.post_duration, keep_pinned: input.keep_pinned, create_at: now, update_at: now, created_by: actor.userId });
  await addTeams(trx, id, input.team_ids);
  await addChannels(trx, id, input.channel_ids);
  return policyWithCounts(trx, id);
}

export async function patchPolicy(trx: Knex.Transaction, actor: Actor, id: string, patch: CustomPolicyPatch): Promise<{ before: PolicyCountsRow; after: PolicyCountsRow }> {
  authorize(actor, 'manage_data_retention', system);
  const before = await policyWithCounts(trx, id);
  await trx('retention_policies').where({ id }).update({ ...patch, update_at: nowMs() });
  return { before, after: await policyWithCounts(trx, id) };
}

export async function deletePolicy(trx: Knex.Transaction, actor: Actor, id: string): Promise<PolicyCountsRow> {
  authorize(actor, 'manage_data_retention', system);
  const before = await policyWithCounts(trx, id);
  await trx('retention_policies').where({ id }).delete();
  return before;
}

/** Adds or removes teams or channels of a policy. */
export async function changePolicyTargets(trx: Knex.Transaction, actor: Actor, id: string, kind: 'teams' | 'channels', change: 'add' | 'remove', ids: string[]): Promise<void> {
  authorize(actor, 'manage_data_retention', system);
  await policyWithCounts(trx, id);
  if (change === 'add') {
    await (kind === 'teams' ? addTeams(trx, id, ids) : addChannels(trx, id, ids));
    return;
  }
  const table = kind === 'teams' ? 'retention_policy_teams' : 'retention_policy_channels';
  const column = kind === 'teams' ? 'team_id' : 'channel_id';
  await trx(table).where({ policy_id: id }).whereIn(column, ids).delete();
}

/** A policy's teams (Mattermost answers Team[]), optionally filtered by a name term. */
export async function policyTeams(db: Db, actor: Actor, id: string, options: { page: number; perPage: number; term?: string }): Promise<Record<string, unknown>[]> {
  authorize(actor, 'manage_data_retention', system);
  await policyWithCounts(db, id);
  const q = db('teams as t').join('retention_policy_teams as r', 'r.team_id', 't.id').where('r.policy_id', id).select('t.*');
  if (options.term) q.andWhere((w) => w.whereILike('t.name', `%${escapeLike(options.term!)}%`).orWhereILike('t.display_name', `%${escapeLike(options.term!)}%`));
  const rows = (await q.orderBy('t.display_name').offset(options.page * options.perPage).limit(options.perPage)) as TeamRow[];
  return rows.map((t) => ({ ...presentTeam(t, false), policy_id: id }));
}

/** A policy's channels with their team's names (Mattermost's ChannelWithTeamData). */
export async function policyChannels(db: Db, actor: Actor, id: string, options: { page: number; perPage: number; term?: string }): Promise<{ channels: Record<string, unknown>[]; total_count: number }> {
  authorize(actor, 'manage_data_retention', system);
  await policyWithCounts(db, id);
  const base = () => {
    const q = db('channels as c').join('retention_policy_channels as r', 'r.channel_id', 'c.id').leftJoin('teams as t', 't.id', 'c.team_id').where('r.policy_id', id);
    if (options.term) q.andWhere((w) => w.whereILike('c.name', `%${escapeLike(options.term!)}%`).orWhereILike('c.display_name', `%${escapeLike(options.term!)}%`));
    return q;
  };
  const rows = (await base().select('c.*', 't.display_name as team_display_name', 't.name as team_name', 't.update_at as team_update_at').orderBy('c.display_name').offset(options.page * options.perPage).limit(options.perPage)) as (ChannelRow & { team_display_name: string | null; team_name: string | null; team_update_at: number | null })[];
  const total = Number((await base().count({ n: '*' }))[0].n);
  return {
    channels: rows.map((c) => ({ ...presentChannel(c), policy_id: id, team_display_name: c.team_display_name ?? '', team_name: c.team_name ?? '', team_update_at: Number(c.team_update_at ?? 0) })),
    total_count: total,
  };
}

function escapeLike(term: string): string {
  return term.replace(/[%_\\]/g, '\\$&');
}

/** `GET /users/{id}/data_retention/team_policies`: the custom policies of the user's teams. */
export async function userTeamPolicies(db: Db, actor: Actor, userId: string, page: number, perPage: number): Promise<{ policies: { team_id: string; post_duration: number }[]; total_count: number }> {
  if (actor.userId !== userId) authorize(actor, 'manage_data_retention', system);
  const base = () => db('team_members as m').join('retention_policy_teams as r', 'r.team_id', 'm.team_id').join('retention_policies as p', 'p.id', 'r.policy_id').where('m.user_id', userId).andWhere('m.delete_at', 0);
  const rows = (await base().select('m.team_id', 'p.post_duration').orderBy('m.team_id').offset(page * perPage).limit(perPage)) as { team_id: string; post_duration: number }[];
  return { policies: rows, total_count: Number((await base().count({ n: '*' }))[0].n) };
}

/** `GET /users/{id}/data_retention/channel_policies`: the custom policies of the user's channels. */
export async function userChannelPolicies(db: Db, actor: Actor, userId: string, page: number, perPage: number): Promise<{ policies: { channel_id: string; post_duration: number }[]; total_count: number }> {
  if (actor.userId !== userId) authorize(actor, 'manage_data_retention', system);
  const base = () => db('channel_members as m').join('retention_policy_channels as r', 'r.channel_id', 'm.channel_id').join('retention_policies as p', 'p.id', 'r.policy_id').where('m.user_id', userId);
  const rows = (await base().select('m.channel_id', 'p.post_duration').orderBy('m.channel_id').offset(page * perPage).limit(perPage)) as { channel_id: string; post_duration: number }[];
  return { policies: rows, total_count: Number((await base().count({ n: '*' }))[0].n) };
}
