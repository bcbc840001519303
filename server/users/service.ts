import type { Knex } from 'knex';
import { z } from 'zod';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import { emailSchema, nameField, usernameSchema } from './validation.ts';
import type { UserRow } from './presenter.ts';

export const systemRoleNames = ['system_user', 'system_admin', 'system_guest', 'system_user_manager', 'compliance_officer', 'auditor'] as const;

export const newUserSchema = z.object({
  email: emailSchema,
  username: usernameSchema,
  password: z.string().optional(),
  nickname: nameField(64),
  first_name: nameField(64),
  last_name: nameField(64),
  position: nameField(128),
  locale: z.string().max(5).default('en'),
  props: z.record(z.string(), z.string()).default({}),
});
export type NewUser = z.input<typeof newUserSchema> & { roles?: string; is_bot?: boolean; auth_service?: string; auth_data?: string | null };

/** Normalises a space-separated role list, refusing unknown roles. */
export function normaliseRoles(roles: string): string {
  const list = [...new Set(roles.split(/\s+/).filter(Boolean))];
  for (const role of list) {
    if (!(systemRoleNames as readonly string[]).includes(role)) throw new InvalidInputError('api.user.update_roles.invalid_role', `Unknown role "${role}".`);
  }
  if (list.includes('system_guest') && list.includes('system_admin')) throw new InvalidInputError('api.user.update_roles.invalid_role', 'A guest cannot be an administrator.');
  if (!list.includes('system_user') && !list.includes('system_guest')) list.unshift('system_user');
  return list.join(' ');
}

/** Creates a user; the password (when given) must meet the policy and is stored as argon2id. */
export async function createUser(trx: Knex | Knex.Transaction, input: NewUser): Promise<UserRow> {
  const parsed = newUserSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError('model.user.is_valid.app_error', `Invalid user: ${issue.path.join('.')} ${issue.message}.`);
  }
  const data = parsed.data;
  const isSso = Boolean(input.auth_service);
  if (!isSso && !input.is_bot) {
    const problem = data.password === undefined ? 'A password is required.' : passwordProblem(data.password);
    if (problem) throw new InvalidInputError('model.user.is_valid.pwd.app_error', problem);
  }
  const now = nowMs();
  const row = {
    id: newId(),
    create_at: now,
    update_at: now,
    delete_at: 0,
    username: data.username,
    email: data.email,
    email_verified: isSso,
    nickname: data.nickname,
    first_name: data.first_name,
    last_name: data.last_name,
    position: data.position,
    roles: normaliseRoles(input.roles ?? 'system_user'),
    locale: data.locale,
    password_hash: data.password !== undefined && !isSso ? await hashPassword(data.password) : null,
    last_password_update: data.password !== undefined ? now : 0,
    auth_service: input.auth_service ?? '',
    auth_data: input.auth_data ?? null,
    is_bot: input.is_bot ?? false,
    props: data.props,
  };
  const existing = await trx('users')
    .whereRaw('lower(username) = ?', [row.username])
    .orWhereRaw('lower(email) = ?', [row.email])
    .first('username', 'email');
  if (existing) {
    const field = existing.username === row.username ? 'username' : 'email';
    throw new ConflictError(`app.user.save.${field}_exists.app_error`, `An account with that ${field} already exists.`);
  }
  const [created] = await trx('users').insert(row).returning('*');
  return created as UserRow;
}

export async function getUser(db: Knex | Knex.Transaction, id: string): Promise<UserRow> {
  const row = await db('users').where({ id }).first();
  if (!row) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  return row as UserRow;
}
