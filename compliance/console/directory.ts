// What the compliance console's pickers need: users, channels (public and private, in every team),
// teams and directory groups, found by a term or named by id. A compliance officer is usually not a
// member of the teams whose channels a hold or a retention policy names, so the ordinary channel
// lists (which follow membership) cannot serve these pickers.
import type { Knex } from 'knex';
import type { Actor } from '../../server/auth/actor.ts';
import { authorize } from '../../server/auth/policy.ts';

export interface DirectoryUser {
  id: string;
  username: string;
  display_name: string;
  deactivated: boolean;
}

export interface DirectoryChannel {
  id: string;
  name: string;
  display_name: string;
  type: 'O' | 'P';
  team_id: string;
  team_display_name: string;
  archived: boolean;
}

export interface DirectoryTeam {
  id: string;
  name: string;
  display_name: string;
}

export interface DirectoryGroup {
  id: string;
  display_name: string;
  source: string;
}

export interface DirectoryResult {
  users: DirectoryUser[];
  channels: DirectoryChannel[];
  teams: DirectoryTeam[];
  groups: DirectoryGroup[];
}

/** Matches per kind for a term: a picker shows a short list and the officer types more. */
const TERM_LIMIT = 20;

/** A LIKE pattern matching `term` anywhere, with LIKE's wildcards taken literally. */
function containing(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

type Filter = { term: string } | { ids: string[] };

function narrow(query: Knex.QueryBuilder, filter: Filter, idColumn: string, textColumns: string[]): Knex.QueryBuilder {
  if ('ids' in filter) return query.whereIn(idColumn, filter.ids);
  const pattern = containing(filter.term);
  return query
    .where((q) => {
      for (const column of textColumns) q.orWhereRaw(`lower(${column}) LIKE ?`, [pattern]);
    })
    .limit(TERM_LIMIT);
}

/**
 * Users, channels, teams and groups matching `term` (at most 20 of each), or exactly those named by
 * `ids` (of any kind). Needs `read_compliance`: only the compliance role and system admins see this.
 */
export async function searchDirectory(db: Knex, actor: Actor, filter: Filter): Promise<DirectoryResult> {
  authorize(actor, 'read_compliance', { kind: 'system' });
  const users = narrow(db('users').select('id', 'username', 'first_name', 'last_name', 'delete_at').orderBy('username'), filter, 'id', ['username', 'first_name', 'last_name', 'email']);
  const channels = narrow(
    db('channels as c')
      .join('teams as t', 't.id', 'c.team_id')
      .whereIn('c.type', ['O', 'P'])
      .select('c.id', 'c.name', 'c.display_name', 'c.type', 'c.team_id', 't.display_name as team_display_name', 'c.delete_at')
      .orderBy('c.display_name'),
    filter, 'c.id', ['c.name', 'c.display_name'],
  );
  const teams = narrow(db('teams').select('id', 'name', 'display_name').orderBy('display_name'), filter, 'id', ['name', 'display_name']);
  const groups = narrow(db('groups').where({ delete_at: 0 }).select('id', 'display_name', 'source').orderBy('display_name'), filter, 'id', ['display_name']);
  const [u, c, t, g] = await Promise.all([users, channels, teams, groups]);
  return {
    users: u.map((r: { id: string; username: string; first_name: string; last_name: string; delete_at: number }) => ({
      id: r.id, username: r.username, display_name: [r.first_name, r.last_name].filter(Boolean).join(' '), deactivated: Number(r.delete_at) > 0,
    })),
    channels: c.map((r: DirectoryChannel & { delete_at: number }) => ({
      id: r.id, name: r.name, display_name: r.display_name, type: r.type, team_id: r.team_id, team_display_name: r.team_display_name, archived: Number(r.delete_at) > 0,
    })),
    teams: t.map((r: DirectoryTeam) => ({ id: r.id, name: r.name, display_name: r.display_name })),
    groups: g.map((r: DirectoryGroup) => ({ id: r.id, display_name: r.display_name, source: r.source })),
  };
}
