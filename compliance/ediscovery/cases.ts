// eDiscovery cases: a matter's saved searches grouped together, optionally tied to the legal hold
// that preserves its data.
import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { InvalidInputError, NotFoundError } from '../../server/lib/errors.ts';
import { newId } from '../../server/lib/ids.ts';
import { resolveSearch, type SearchRequest } from './search.ts';

type Db = Knex | Knex.Transaction;
const system = { kind: 'system' } as const;

export interface CaseRow {
  id: string;
  name: string;
  description: string;
  hold_id: string | null;
  create_at: number;
  update_at: number;
  delete_at: number;
  created_by: string;
}

export interface SavedSearchRow {
  id: string;
  case_id: string;
  name: string;
  terms: string;
  options: Omit<SearchRequest, 'terms'>;
  create_at: number;
  update_at: number;
  delete_at: number;
  created_by: string;
  last_run_at: number;
  last_total: number;
}

export function presentCase(row: CaseRow, searches?: SavedSearchRow[]): Record<string, unknown> {
  return {
    id: row.id, name: row.name, description: row.description, hold_id: row.hold_id ?? '', create_at: Number(row.create_at),
    update_at: Number(row.update_at), delete_at: Number(row.delete_at), created_by: row.created_by,
    ...(searches ? { searches: searches.map(presentSavedSearch) } : {}),
  };
}

export function presentSavedSearch(row: SavedSearchRow): Record<string, unknown> {
  return {
    id: row.id, case_id: row.case_id, name: row.name, terms: row.terms, ...row.options, create_at: Number(row.create_at), update_at: Number(row.update_at),
    created_by: row.created_by, last_run_at: Number(row.last_run_at), last_total: row.last_total,
  };
}

function caseNotFound(): NotFoundError {
  return new NotFoundError('app.ediscovery.case.not_found.app_error', 'Unable to find the case.');
}

async function checkHold(db: Db, holdId: string | undefined | null): Promise<void> {
  if (holdId && !(await db('legal_holds').where({ id: holdId }).first('id'))) throw new InvalidInputError('api.ediscovery.case.hold.app_error', 'The legal hold does not exist.');
}

export async function loadCase(db: Db, actor: Actor, caseId: string): Promise<CaseRow> {
  authorize(actor, 'ediscovery_search', system);
  const row = (await db('ediscovery_cases').where({ id: caseId, delete_at: 0 }).first()) as CaseRow | undefined;
  if (!row) throw caseNotFound();
  return row;
}

export async function createCase(trx: Knex.Transaction, actor: Actor, input: { name: string; description: string; hold_id?: string }): Promise<CaseRow> {
  authorize(actor, 'ediscovery_search', system);
  await checkHold(trx, input.hold_id);
  const now = nowMs();
  const [row] = (await trx('ediscovery_cases').insert({ id: newId(), name: input.name, description: input.description, hold_id: input.hold_id ?? null, create_at: now, update_at: now, created_by: actor.userId }).returning('*')) as CaseRow[];
  return row;
}

export async function listCases(db: Db, actor: Actor, page: number, perPage: number): Promise<CaseRow[]> {
  authorize(actor, 'ediscovery_search', system);
  return (await db('ediscovery_cases').where({ delete_at: 0 }).orderBy([{ column: 'create_at', order: 'desc' }, { column: 'id', order: 'desc' }]).offset(page * perPage).limit(perPage)) as CaseRow[];
}

export async function patchCase(trx: Knex.Transaction, actor: Actor, caseId: string, patch: { name?: string; description?: string; hold_id?: string }): Promise<CaseRow> {
  await loadCase(trx, actor, caseId);
  await checkHold(trx, patch.hold_id);
  const changes: Record<string, unknown> = { ...patch, update_at: nowMs() };
  if (patch.hold_id === '') changes.hold_id = null;
  const [row] = (await trx('ediscovery_cases').where({ id: caseId }).update(changes).returning('*')) as CaseRow[];
  return row;
}

/** Closes a case (kept for the record; its searches and exports stay readable in the audit log). */
export async function deleteCase(trx: Knex.Transaction, actor: Actor, caseId: string): Promise<void> {
  await loadCase(trx, actor, caseId);
  await trx('ediscovery_cases').where({ id: caseId }).update({ delete_at: nowMs(), update_at: nowMs() });
}

export async function caseSearches(db: Db, actor: Actor, caseId: string): Promise<SavedSearchRow[]> {
  await loadCase(db, actor, caseId);
  return (await db('ediscovery_saved_searches').where({ case_id: caseId, delete_at: 0 }).orderBy([{ column: 'create_at' }, { column: 'id' }])) as SavedSearchRow[];
}

export async function saveSearch(trx: Knex.Transaction, actor: Actor, caseId: string, input: { name: string } & SearchRequest): Promise<SavedSearchRow> {
  await loadCase(trx, actor, caseId);
  const { name, terms, ...options } = input;
  await resolveSearch(trx, { terms, ...options }); // refuse a search that cannot run
  const now = nowMs();
  const [row] = (await trx('ediscovery_saved_searches').insert({ id: newId(), case_id: caseId, name, terms, options: JSON.stringify(options), create_at: now, update_at: now, created_by: actor.userId }).returning('*')) as SavedSearchRow[];
  return row;
}

export async function loadSavedSearch(db: Db, actor: Actor, caseId: string, searchId: string): Promise<SavedSearchRow> {
  await loadCase(db, actor, caseId);
  const row = (await db('ediscovery_saved_searches').where({ id: searchId, case_id: caseId, delete_at: 0 }).first()) as SavedSearchRow | undefined;
  if (!row) throw new NotFoundError('app.ediscovery.saved_search.not_found.app_error', 'Unable to find the saved search.');
  return row;
}

export async function deleteSavedSearch(trx: Knex.Transaction, actor: Actor, caseId: string, searchId: string): Promise<void> {
  await loadSavedSearch(trx, actor, caseId, searchId);
  await trx('ediscovery_saved_searches').where({ id: searchId }).update({ delete_at: nowMs(), update_at: nowMs() });
}

export async function recordSearchRun(trx: Knex.Transaction, searchId: string, total: number): Promise<void> {
  await trx('ediscovery_saved_searches').where({ id: searchId }).update({ last_run_at: nowMs(), last_total: total });
}

/** The request a saved search stands for. */
export function savedRequest(row: SavedSearchRow): SearchRequest {
  return { ...row.options, terms: row.terms };
}
