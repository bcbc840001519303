// Bots: users (is_bot) that integrations drive with personal access tokens, each owned by the user who
// created it.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { authorize, can } from '../auth/policy.ts';
import { forgetCachedSessions, revokeAllSessions } from '../auth/sessions.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import { createUser } from '../users/service.ts';
import { usernameSchema } from '../users/validation.ts';
import { botQuery, type BotRow } from './model.ts';

const displayName = z.string().max(64);
const description = z.string().max(1024);

export const newBotSchema = z.object({ username: z.string().max(64), display_name: displayName.default(''), description: description.default('') });
export type NewBot = z.output<typeof newBotSchema>;

export const botPatchSchema = z.object({ username: z.string().max(64).optional(), display_name: displayName.optional(), description: description.optional() });
export type BotPatch = z.output<typeof botPatchSchema>;

/** Called after commit with the sessions a change ended, so live connections can be closed at once. */
export type SessionsEnded = (sessionIds: string[]) => void;

function validUsername(username: string): string {
  const parsed = usernameSchema.safeParse(username);
  if (!parsed.success) throw new InvalidInputError('model.bot.is_valid.username.app_error', 'Invalid username.', parsed.error.issues[0]?.message);
  return parsed.data;
}

function botNotFound(): NotFoundError {
  // The same answer whether the bot does not exist or the actor may not see it: bot ids do not leak.
  return new NotFoundError('store.sql_bot.get.missing.app_error', 'Unable to find the bot.');
}

/** True when the actor may change the bot: bot managers, or its owner when they may create bots. */
export function mayManageBot(actor: Actor, bot: Pick<BotRow, 'owner_id'>): boolean {
  return can(actor, 'manage_bots', { kind: 'system' }) || (bot.owner_id === actor.userId && can(actor, 'create_bot', { kind: 'system' }));
}

/** Creates a bot and its user (is_bot, system_user, no password); the actor becomes its owner. */
export async function createBot(trx: Knex.Transaction, actor: Actor, input: NewBot): Promise<BotRow> {
  authorize(actor, 'create_bot', { kind: 'system' });
  const username = validUsername(input.username);
  const user = await createUser(trx, {
    // Bots have no mailbox; the address only satisfies the users table (Mattermost uses <name>@localhost).
    email: `${username}@bot.localhost`, username, first_name: input.display_name, is_bot: true, roles: 'system_user',
  });
  const now = nowMs();
  await trx('bots').insert({ user_id: user.id, description: input.description, owner_id: actor.userId, create_at: now, update_at: now, delete_at: 0 });
  return (await botQuery(trx).where('b.user_id', user.id).first()) as BotRow;
}

/** Loads a bot the actor may see: every bot for bot managers, their own bots for those who may create bots. */
export async function getBot(db: Knex | Knex.Transaction, actor: Actor, botUserId: string, options: { includeDeleted?: boolean } = {}): Promise<BotRow> {
  const system = { kind: 'system' } as const;
  if (!can(actor, 'manage_bots', system) && !can(actor, 'create_bot', system)) {
    throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 'missing permission manage_bots');
  }
  const bot = (await botQuery(db).where('b.user_id', botUserId).first()) as BotRow | undefined;
  if (!bot || (bot.delete_at > 0 && !options.includeDeleted) || !mayManageBot(actor, bot)) throw botNotFound();
  return bot;
}

/** Lists bots the actor may see, by username. */
export async function listBots(db: Knex, actor: Actor, options: { page: number; perPage: number; includeDeleted: boolean; onlyOrphaned: boolean }): Promise<BotRow[]> {
  const system = { kind: 'system' } as const;
  const query = botQuery(db);
  if (!can(actor, 'manage_bots', system)) {
    authorize(actor, 'create_bot', system);
    query.where('b.owner_id', actor.userId);
  }
  if (!options.includeDeleted) query.where('b.delete_at', 0);
  if (options.onlyOrphaned) query.whereNotExists(db('users as o').whereRaw('o.id = b.owner_id').where('o.delete_at', 0));
  return (await query.orderBy('u.username').offset(options.page * options.perPage).limit(options.perPage)) as BotRow[];
}

/** Changes a bot's username, display name or description. */
export async function patchBot(trx: Knex.Transaction, afterCommit: AfterCommit, actor: Actor, botUserId: string, patch: BotPatch): Promise<BotRow> {
  const bot = await getBot(trx, actor, botUserId, { includeDeleted: true });
  const now = nowMs();
  const userChanges: Record<string, unknown> = {};
  if (patch.username !== undefined) userChanges.username = validUsername(patch.username);
  if (patch.display_name !== undefined) userChanges.first_name = patch.display_name;
  if (Object.keys(userChanges).length) {
    await trx('users').where({ id: bot.user_id }).update({ ...userChanges, update_at: now });
    afterCommit(() => forgetCachedSessions(bot.user_id));
  }
  await trx('bots').where({ user_id: bot.user_id }).update({ ...(patch.description !== undefined ? { description: patch.description } : {}), update_at: now });
  return (await botQuery(trx).where('b.user_id', bot.user_id).first()) as BotRow;
}

/**
 * Disables or enables a bot. Disabling deactivates its user and ends its sessions, so its access
 * tokens stop working at once (they work again when it is enabled).
 */
export async function setBotActive(trx: Knex.Transaction, afterCommit: AfterCommit, actor: Actor, botUserId: string, active: boolean, ended?: SessionsEnded): Promise<BotRow> {
  const bot = await getBot(trx, actor, botUserId, { includeDeleted: true });
  const now = nowMs();
  const deleteAt = active ? 0 : now;
  await trx('bots').where({ user_id: bot.user_id }).update({ delete_at: deleteAt, update_at: now });
  await trx('users').where({ id: bot.user_id }).update({ delete_at: deleteAt, update_at: now });
  const sessions = active ? [] : (await trx('sessions').where({ user_id: bot.user_id }).select('id')).map((s: { id: string }) => s.id);
  if (!active) await revokeAllSessions(trx, bot.user_id);
  afterCommit(() => {
    // Cached sessions carry the user row, whose delete_at just changed.
    forgetCachedSessions(bot.user_id);
    if (ended && sessions.length) ended(sessions);
  });
  return (await botQuery(trx).where('b.user_id', bot.user_id).first()) as BotRow;
}

/** Gives a bot to another (active) owner. */
export async function assignBot(trx: Knex.Transaction, actor: Actor, botUserId: string, ownerId: string): Promise<BotRow> {
  const bot = await getBot(trx, actor, botUserId, { includeDeleted: true });
  if (!(await trx('users').where({ id: ownerId, delete_at: 0 }).first('id'))) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  await trx('bots').where({ user_id: bot.user_id }).update({ owner_id: ownerId, update_at: nowMs() });
  return (await botQuery(trx).where('b.user_id', bot.user_id).first()) as BotRow;
}
