import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../server/lib/errors.ts';
import { newId } from '../../server/lib/ids.ts';
import { parseHoldQuery, tsquerySql } from '../ediscovery/query.ts';
import { lockHoldsAgainstPurge } from './lock.ts';
import { presentHold, presentVersion, type HoldJson, type HoldRow, type HoldScope, type HoldVersionJson, type HoldVersionRow } from './model.ts';

type Db = Knex | Knex.Transaction;

/** What a new hold says. Times are epoch ms; ends_at 0 leaves the range open. */
export interface NewHold extends HoldScope {
  name?: string;
  display_name: string;
  description: string;
  starts_at: number;
  ends_at: number;
  query: string;
  comment: string;
}

/** A change to a hold: every field given replaces the current one (scope lists replace whole lists). */
export type HoldPatch = Partial<Omit<NewHold, 'name'>>;

const system = { kind: 'system' } as const;
const versionColumns = ['hold_id', 'version', 'display_name', 'description', 'starts_at', 'ends_at', 'query', 'released', 'comment', 'create_at', 'created_by'];

function holdNotFound(): NotFoundError {
  return new NotFoundError('app.legal_hold.get.not_found.app_error', 'Unable to find the legal hold.');
}

/** A name from a display name: lower-case letters, digits and dashes, plus a short random tail. */
function nameFrom(displayName: string): string {
  const stem = displayName.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
  return `${stem || 'hold'}-${newId().slice(0, 6)}`;
}

async function checkScope(trx: Knex.Transaction, scope: HoldScope, starts: number, ends: number): Promise<void> {
  if (scope.user_ids.length + scope.group_ids.length + scope.channel_ids.length === 0) {
    throw new InvalidInputError('api.legal_hold.scope.empty.app_error', 'A legal hold needs at least one custodian (user or group) or channel.');
  }
  if (ends !== 0 && ends < starts) throw new InvalidInputError('api.legal_hold.dates.app_error', 'ends_at is before starts_at.');
  const missing = async (table: string, ids: string[]) => {
    if (ids.length === 0) return [];
    const found = new Set((await trx(table).whereIn('id', ids).select('id')).map((r: { id: string }) => r.id));
    return ids.filter((id) => !found.has(id));
  };
  const users = await missing('users', scope.user_ids);
  if (users.length) throw new InvalidInputError('api.legal_hold.users.not_found.app_error', 'Some custodians do not exist.', users.join(','));
  const channels = await missing('channels', scope.channel_ids);
  if (channels.length) throw new InvalidInputError('api.legal_hold.channels.not_found.app_error', 'Some channels do not exist.', channels.join(','));
}

async function insertVersion(trx: Knex.Transaction, holdId: string, version: number, v: Omit<NewHold, 'name'> & { released: boolean }, actor: Actor, now: number): Promise<void> {
  const text = v.query.trim() ? parseHoldQuery(v.query) : undefined;
  const ts = text ? tsquerySql(text) : { sql: 'NULL', bindings: [] };
  await trx.raw(
    `INSERT INTO legal_hold_versions (hold_id, version, display_name, description, starts_at, ends_at, query, query_tsquery, released, comment, create_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ${ts.sql}, ?, ?, ?, ?)`,
    [holdId, version, v.display_name, v.description, v.starts_at, v.ends_at, v.query.trim(), ...ts.bindings, v.released, v.comment, now, actor.userId],
  );
  const rows = [
    ...unique(v.user_ids).map((id) => ({ kind: 'user', target_id: id })),
    ...unique(v.group_ids).map((id) => ({ kind: 'group', target_id: id })),
    ...unique(v.channel_ids).map((id) => ({ kind: 'channel', target_id: id })),
  ];
  if (rows.length) await trx('legal_hold_scope').insert(rows.map((r) => ({ hold_id: holdId, version, ...r })));
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

async function loadScope(db: Db, holdId: string, versions: number[]): Promise<Map<number, HoldScope>> {
  const out = new Map<number, HoldScope>(versions.map((v) => [v, { user_ids: [], group_ids: [], channel_ids: [] }]));
  const rows = (await db('legal_hold_scope').where({ hold_id: holdId }).whereIn('version', versions)) as { version: number; kind: string; target_id: string }[];
  for (const r of rows) {
    const scope = out.get(r.version)!;
    (r.kind === 'user' ? scope.user_ids : r.kind === 'group' ? scope.group_ids : scope.channel_ids).push(r.target_id);
  }
  return out;
}

async function currentVersion(db: Db, hold: HoldRow): Promise<HoldVersionJson> {
  const v = (await db('legal_hold_versions').where({ hold_id: hold.id, version: hold.current_version }).first(versionColumns)) as HoldVersionRow;
  return presentVersion(v, (await loadScope(db, hold.id, [v.version])).get(v.version)!);
}

async function lockedHold(trx: Knex.Transaction, holdId: string): Promise<HoldRow> {
  const hold = (await trx('legal_holds').where({ id: holdId }).forUpdate().first()) as HoldRow | undefined;
  if (!hold) throw holdNotFound();
  return hold;
}

/**
 * Creates a hold. It takes effect when this transaction commits: the hold/purge lock makes any purge
 * batch in flight finish first, and every later batch sees the hold.
 */
export async function createHold(trx: Knex.Transaction, actor: Actor, input: NewHold): Promise<HoldJson> {
  authorize(actor, 'manage_legal_holds', system);
  await checkScope(trx, input, input.starts_at, input.ends_at);
  await lockHoldsAgainstPurge(trx);
  const now = nowMs();
  const id = newId();
  const name = input.name ?? nameFrom(input.display_name);
  if (await trx('legal_holds').whereRaw('lower(name) = lower(?)', [name]).first('id')) {
    throw new ConflictError('api.legal_hold.name.exists.app_error', 'A legal hold with that name already exists.');
  }
  await trx('legal_holds').insert({ id, name, current_version: 1, create_at: now, created_by: actor.userId, update_at: now });
  await insertVersion(trx, id, 1, { ...input, released: false }, actor, now);
  return getHold(trx, actor, id);
}

/** Changes a hold by adding a version; the previous versions stay as they were. */
export async function patchHold(trx: Knex.Transaction, actor: Actor, holdId: string, patch: HoldPatch): Promise<HoldJson> {
  authorize(actor, 'manage_legal_holds', system);
  await lockHoldsAgainstPurge(trx);
  const hold = await lockedHold(trx, holdId);
  if (Number(hold.released_at) > 0) throw new ConflictError('api.legal_hold.released.app_error', 'The legal hold has been released and cannot change.');
  const current = await currentVersion(trx, hold);
  const next = {
    display_name: patch.display_name ?? current.display_name,
    description: patch.description ?? current.description,
    starts_at: patch.starts_at ?? current.starts_at,
    ends_at: patch.ends_at ?? current.ends_at,
    query: patch.query ?? current.query,
    user_ids: patch.user_ids ?? current.user_ids,
    group_ids: patch.group_ids ?? current.group_ids,
    channel_ids: patch.channel_ids ?? current.channel_ids,
    comment: patch.comment ?? '',
    released: false,
  };
  await checkScope(trx, next, next.starts_at, next.ends_at);
  const now = nowMs();
  const version = hold.current_version + 1;
  await insertVersion(trx, hold.id, version, next, actor, now);
  await trx('legal_holds').where({ id: hold.id }).update({ current_version: version, update_at: now });
  return getHold(trx, actor, hold.id);
}

/** Releases a hold (a last version marked released). Deletes nothing: retention decides later. */
export async function releaseHold(trx: Knex.Transaction, actor: Actor, holdId: string, comment: string): Promise<HoldJson> {
  authorize(actor, 'manage_legal_holds', system);
  await lockHoldsAgainstPurge(trx);
  const hold = await lockedHold(trx, holdId);
  if (Number(hold.released_at) > 0) throw new ConflictError('api.legal_hold.released.app_error', 'The legal hold has already been released.');
  const current = await currentVersion(trx, hold);
  const now = nowMs();
  const version = hold.current_version + 1;
  await insertVersion(trx, hold.id, version, { ...current, comment, released: true }, actor, now);
  await trx('legal_holds').where({ id: hold.id }).update({ current_version: version, update_at: now, released_at: now, released_by: actor.userId });
  return getHold(trx, actor, hold.id);
}

/** A hold with its whole version history, oldest first. */
export async function getHold(db: Db, actor: Actor, holdId: string): Promise<HoldJson> {
  authorize(actor, 'manage_legal_holds', system);
  const hold = (await db('legal_holds').where({ id: holdId }).first()) as HoldRow | undefined;
  if (!hold) throw holdNotFound();
  const rows = (await db('legal_hold_versions').where({ hold_id: holdId }).orderBy('version').select(versionColumns)) as HoldVersionRow[];
  const scopes = await loadScope(db, holdId, rows.map((r) => r.version));
  const versions = rows.map((r) => presentVersion(r, scopes.get(r.version)!));
  return presentHold(hold, versions.find((v) => v.version === hold.current_version)!, versions);
}

/** Holds, newest first; released ones only when asked. */
export async function listHolds(db: Db, actor: Actor, options: { page: number; perPage: number; includeReleased: boolean }): Promise<HoldJson[]> {
  authorize(actor, 'manage_legal_holds', system);
  const query = db('legal_holds').orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]).offset(options.page * options.perPage).limit(options.perPage);
  if (!options.includeReleased) query.where({ released_at: 0 });
  const holds = (await query) as HoldRow[];
  return Promise.all(holds.map(async (h) => presentHold(h, await currentVersion(db, h))));
}

/** Finds a hold by id or name (for eDiscovery's hold: filter); undefined when there is none. */
export async function findHoldId(db: Db, idOrName: string): Promise<string | undefined> {
  const row = await db('legal_holds').where({ id: idOrName }).orWhereRaw('lower(name) = lower(?)', [idOrName]).first('id');
  return row?.id;
}
