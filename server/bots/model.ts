import type { Knex } from 'knex';

/** A bot: its bots row joined with the users row it acts as (username and display name live there). */
export interface BotRow {
  user_id: string;
  username: string;
  display_name: string;
  description: string;
  owner_id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/** Selects bots with their user's username and display name. */
export function botQuery(db: Knex | Knex.Transaction): Knex.QueryBuilder {
  return db('bots as b')
    .join('users as u', 'u.id', 'b.user_id')
    .select('b.user_id', 'u.username', 'u.first_name as display_name', 'b.description', 'b.owner_id', 'b.create_at', 'b.update_at', 'b.delete_at');
}

/** The Bot object of API v4. */
export function presentBot(row: BotRow): Record<string, unknown> {
  return {
    user_id: row.user_id, username: row.username, display_name: row.display_name, description: row.description,
    owner_id: row.owner_id, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at,
    system_owned: false,
  };
}

/** A user_access_tokens row. Only a SHA-256 of the token is stored; the token itself is shown once. */
export interface AccessTokenRow {
  id: string;
  token_hash: string;
  user_id: string;
  description: string;
  is_active: boolean;
  create_at: number;
}

/** The UserAccessToken object of API v4; `token` only in the answer that created it. */
export function presentAccessToken(row: AccessTokenRow, token?: string): Record<string, unknown> {
  return { id: row.id, ...(token ? { token } : {}), user_id: row.user_id, description: row.description, is_active: row.is_active };
}
