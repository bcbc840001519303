import type { Knex } from 'knex';
import { createSession } from '../../server/auth/sessions.ts';
import { newId } from '../../server/lib/ids.ts';
import { createUser } from '../../server/users/service.ts';
import type { UserRow } from '../../server/users/presenter.ts';
import type { TestApp } from './app.ts';

let seq = 0;
const unique = () => `${Date.now().toString(36)}${(++seq).toString(36)}`;

export interface TestUser {
  user: UserRow;
  token: string;
  password: string;
}

/** Creates a user (argon2 hashing included) and a session; returns its bearer token. */
export async function makeUser(app: TestApp, options: { roles?: string; username?: string; password?: string } = {}): Promise<TestUser> {
  const password = options.password ?? 'correct-horse-battery';
  const username = options.username ?? `u${unique()}`;
  const user = await createUser(app.ownerDb, { email: `${username}@example.com`, username, password, roles: options.roles });
  const { token } = await createSession(app.ownerDb, { user, lifetimeMs: 3600_000 });
  return { user, token, password };
}

/** Inserts a team; `members` join as team users, `admins` as team admins. */
export async function makeTeam(db: Knex, options: { type?: 'O' | 'I'; members?: UserRow[]; admins?: UserRow[] } = {}): Promise<{ id: string; name: string }> {
  const name = `team-${unique()}`;
  const id = newId();
  const now = Date.now();
  await db('teams').insert({ id, name, display_name: name, type: options.type ?? 'O', invite_id: newId(), create_at: now, update_at: now, allow_open_invite: options.type !== 'I' });
  for (const u of options.members ?? []) await db('team_members').insert({ team_id: id, user_id: u.id, create_at: now, scheme_guest: u.roles.includes('system_guest'), scheme_user: !u.roles.includes('system_guest') });
  for (const u of options.admins ?? []) await db('team_members').insert({ team_id: id, user_id: u.id, create_at: now, scheme_admin: true });
  return { id, name };
}

/** Inserts a channel with members (and their join in channel member history). */
export async function makeChannel(db: Knex, teamId: string, options: { type?: 'O' | 'P'; members?: UserRow[] } = {}): Promise<{ id: string; name: string }> {
  const name = `chan-${unique()}`;
  const id = newId();
  const now = Date.now();
  await db('channels').insert({ id, team_id: teamId, name, display_name: name, type: options.type ?? 'O', create_at: now, update_at: now });
  for (const u of options.members ?? []) {
    const guest = u.roles.includes('system_guest');
    await db('channel_members').insert({ channel_id: id, user_id: u.id, scheme_guest: guest, scheme_user: !guest, last_update_at: now });
    await db('channel_member_history').insert({ channel_id: id, user_id: u.id, join_time: now });
  }
  return { id, name };
}
