// Personal access tokens: long-lived bearer tokens for a user or a bot. The token is shown once, at
// creation; only its SHA-256 is stored. Revoking or disabling one ends the sessions made from it, so it
// stops working at once.
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { authorize, can } from '../auth/policy.ts';
import { forgetCachedSessions, hashToken, revokeAccessTokenSessions } from '../auth/sessions.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, NotFoundError } from '../lib/errors.ts';
import { newId, newToken } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { AccessTokenRow } from './model.ts';
import type { SessionsEnded } from './service.ts';

/**
 * Who may manage a user's tokens: anyone with create_user_access_token for their own; for a bot, its
 * owner or a bot manager; for another person, a system manager (Mattermost's SessionHasPermissionToUserOrBot).
 */
export async function authorizeTokenOwner(db: Knex | Knex.Transaction, actor: Actor, userId: string): Promise<void> {
  const system = { kind: 'system' } as const;
  authorize(actor, 'create_user_access_token', system);
  if (userId === actor.userId) return;
  const user = await db('users').where({ id: userId }).first('id', 'is_bot');
  if (!user) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  if (user.is_bot) {
    const bot = await db('bots').where({ user_id: userId }).first('owner_id');
    if (bot?.owner_id === actor.userId || can(actor, 'manage_bots', system)) return;
  } else if (can(actor, 'manage_system', system)) {
    return;
  }
  throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 'missing permission edit_other_users');
}

/** Creates a token for a user; returns the row and the token, which is never shown again. */
export async function createAccessToken(trx: Knex.Transaction, actor: Actor, userId: string, description: string): Promise<{ row: AccessTokenRow; token: string }> {
  await authorizeTokenOwner(trx, actor, userId);
  if (!(await trx('users').where({ id: userId }).first('id'))) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
  const token = newToken();
  const [row] = (await trx('user_access_tokens')
    .insert({ id: newId(), token_hash: hashToken(token), user_id: userId, description, is_active: true, create_at: nowMs() })
    .returning('*')) as AccessTokenRow[];
  return { row, token };
}

/** A user's tokens (without the tokens themselves), oldest first. */
export async function listAccessTokens(db: Knex, actor: Actor, userId: string, page: number, perPage: number): Promise<AccessTokenRow[]> {
  await authorizeTokenOwner(db, actor, userId);
  return (await db('user_access_tokens').where({ user_id: userId }).orderBy('create_at').orderBy('id').offset(page * perPage).limit(perPage)) as AccessTokenRow[];
}

/** Every user's tokens, for system managers. */
export async function listAllAccessTokens(db: Knex, actor: Actor, page: number, perPage: number): Promise<AccessTokenRow[]> {
  authorize(actor, 'manage_system', { kind: 'system' });
  return (await db('user_access_tokens').orderBy('create_at').orderBy('id').offset(page * perPage).limit(perPage)) as AccessTokenRow[];
}

/** Loads a token whose user the actor may manage tokens for; 404 when it does not exist. */
export async function getAccessToken(db: Knex | Knex.Transaction, actor: Actor, tokenId: string, forUpdate = false): Promise<AccessTokenRow> {
  const query = db('user_access_tokens').where({ id: tokenId }).first();
  if (forUpdate) query.forUpdate();
  const row = (await query) as AccessTokenRow | undefined;
  if (!row) throw new NotFoundError('app.user_access_token.get_by_user.app_error', 'Unable to get the personal access token.');
  await authorizeTokenOwner(db, actor, row.user_id);
  return row;
}

/**
 * Ends the sessions made from a token (a token's first use opens one; later uses reuse it). Cached
 * copies are dropped again after commit: a request racing with this transaction could have cached the
 * still-visible session in between.
 */
async function endTokenSessions(trx: Knex.Transaction, afterCommit: AfterCommit, token: AccessTokenRow, ended?: SessionsEnded): Promise<void> {
  const sessions = (await trx('sessions').where({ access_token_id: token.id }).select('id')).map((s: { id: string }) => s.id);
  await revokeAccessTokenSessions(trx, token.id);
  afterCommit(() => {
    forgetCachedSessions(token.user_id);
    if (ended && sessions.length) ended(sessions);
  });
}

/** Deletes a token and its sessions. */
export async function revokeAccessToken(trx: Knex.Transaction, afterCommit: AfterCommit, actor: Actor, tokenId: string, ended?: SessionsEnded): Promise<void> {
  const row = await getAccessToken(trx, actor, tokenId, true);
  await endTokenSessions(trx, afterCommit, row, ended);
  await trx('user_access_tokens').where({ id: row.id }).delete();
}

/** Disables (ending its sessions) or re-enables a token. */
export async function setAccessTokenActive(trx: Knex.Transaction, afterCommit: AfterCommit, actor: Actor, tokenId: string, active: boolean, ended?: SessionsEnded): Promise<void> {
  const row = await getAccessToken(trx, actor, tokenId, true);
  if (!active) await endTokenSessions(trx, afterCommit, row, ended);
  await trx('user_access_tokens').where({ id: row.id }).update({ is_active: active });
}
