// Outgoing webhooks: posts in public channels that match a hook's trigger words are sent to the hook's
// callback URLs, and a reply with text is posted back.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { authorize } from '../auth/policy.ts';
import { loadChannelAccess } from '../channels/access.ts';
import { InvalidInputError, NotFoundError, ForbiddenError, invalidParam } from '../lib/errors.ts';
import { newId, newToken } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import { loadTeamResource } from './access.ts';

/** An outgoing_webhooks row. trigger_when: 0 = the first word is a trigger word, 1 = it starts with one. */
export interface OutgoingWebhookRow {
  id: string;
  token: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  creator_id: string;
  channel_id: string;
  team_id: string;
  trigger_words: string[];
  trigger_when: number;
  callback_urls: string[];
  display_name: string;
  description: string;
  content_type: string;
  username: string;
  icon_url: string;
}

/** The OutgoingWebhook object of API v4 (its token is shown to those who manage it). */
export function presentOutgoingWebhook(row: OutgoingWebhookRow): Record<string, unknown> {
  return {
    id: row.id, token: row.token, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at,
    creator_id: row.creator_id, channel_id: row.channel_id, team_id: row.team_id, trigger_words: row.trigger_words,
    trigger_when: row.trigger_when, callback_urls: row.callback_urls, display_name: row.display_name,
    description: row.description, content_type: row.content_type, username: row.username, icon_url: row.icon_url,
  };
}

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
const httpUrl = z.string().max(1024).refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http:// or https:// URL');

const hookFields = {
  channel_id: z.union([id, z.literal('')]).default(''),
  trigger_words: z.array(z.string().min(1, 'must not be empty').max(1024)).max(100).nullable().default([]).transform((v) => v ?? []),
  trigger_when: z.number().int().min(0).max(1).default(0),
  callback_urls: z.array(httpUrl).min(1, 'must list at least one URL').max(100),
  display_name: z.string().max(64).default(''),
  description: z.string().max(500).default(''),
  content_type: z.string().max(128).default('application/x-www-form-urlencoded'),
  username: z.string().max(64).default(''),
  icon_url: z.string().max(1024).default(''),
};

function joinedLengthOk(list: string[]): boolean {
  return list.join(' ').length <= 1024;
}

export const newOutgoingWebhookSchema = z
  .object({ team_id: id, creator_id: z.union([id, z.literal('')]).optional(), ...hookFields })
  .refine((h) => joinedLengthOk(h.trigger_words), { message: 'are too long together', path: ['trigger_words'] })
  .refine((h) => joinedLengthOk(h.callback_urls), { message: 'are too long together', path: ['callback_urls'] });
export type NewOutgoingWebhook = z.output<typeof newOutgoingWebhookSchema>;

export const outgoingWebhookUpdateSchema = z
  .object({ id, team_id: z.union([id, z.literal('')]).optional(), ...hookFields })
  .refine((h) => joinedLengthOk(h.trigger_words), { message: 'are too long together', path: ['trigger_words'] })
  .refine((h) => joinedLengthOk(h.callback_urls), { message: 'are too long together', path: ['callback_urls'] });
export type OutgoingWebhookUpdate = z.output<typeof outgoingWebhookUpdateSchema>;

/** A hook's channel must be a public channel of its team; a team-wide hook needs trigger words. */
async function checkChannelAndTriggers(db: Knex | Knex.Transaction, actor: Actor, teamId: string, input: { channel_id: string; trigger_words: string[] }): Promise<void> {
  if (input.channel_id) {
    const { channel } = await loadChannelAccess(db, actor, input.channel_id);
    if (channel.type !== 'O') throw new ForbiddenError('api.webhook.create_outgoing.not_open.app_error', 'Outgoing webhooks can only be created for public channels.');
    if (channel.team_id !== teamId) throw new ForbiddenError('api.webhook.create_outgoing.permissions.app_error', 'Inappropriate permissions to create outgoing webhook.');
  } else if (input.trigger_words.length === 0) {
    throw new InvalidInputError('api.webhook.create_outgoing.triggers.app_error', 'Either trigger_words or channel_id must be set.');
  }
}

/** Two hooks of one channel scope may not share both a callback URL and a trigger word (each post would be sent twice). */
async function checkNoOverlap(db: Knex | Knex.Transaction, teamId: string, input: { channel_id: string; trigger_words: string[]; callback_urls: string[] }, exceptId = ''): Promise<void> {
  const others = (await db('outgoing_webhooks').where({ team_id: teamId, delete_at: 0, channel_id: input.channel_id }).whereNot({ id: exceptId })) as OutgoingWebhookRow[];
  for (const other of others) {
    const urls = other.callback_urls.some((u) => input.callback_urls.includes(u));
    const words = other.trigger_words.some((w) => input.trigger_words.includes(w));
    if (urls && words) throw new InvalidInputError('api.webhook.create_outgoing.intersect.app_error', 'Outgoing webhooks from the same channel cannot have the same trigger words/callback URLs.');
  }
}

function columns(input: Omit<NewOutgoingWebhook, 'team_id' | 'creator_id'>): Record<string, unknown> {
  return {
    channel_id: input.channel_id, trigger_words: JSON.stringify(input.trigger_words), trigger_when: input.trigger_when,
    callback_urls: JSON.stringify(input.callback_urls), display_name: input.display_name, description: input.description,
    content_type: input.content_type, username: input.username, icon_url: input.icon_url,
  };
}

/** Creates an outgoing webhook (manage_outgoing_webhooks on the team). */
export async function createOutgoingWebhook(trx: Knex.Transaction, actor: Actor, input: NewOutgoingWebhook): Promise<OutgoingWebhookRow> {
  const { resource } = await loadTeamResource(trx, actor, input.team_id);
  authorize(actor, 'manage_outgoing_webhooks', resource);
  let creatorId = actor.userId;
  if (input.creator_id && input.creator_id !== actor.userId) {
    if (!(await trx('users').where({ id: input.creator_id, delete_at: 0 }).first('id'))) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
    creatorId = input.creator_id;
  }
  await checkChannelAndTriggers(trx, actor, input.team_id, input);
  await checkNoOverlap(trx, input.team_id, input);
  const now = nowMs();
  const [row] = (await trx('outgoing_webhooks')
    .insert({ id: newId(), token: newToken(), create_at: now, update_at: now, delete_at: 0, creator_id: creatorId, team_id: input.team_id, ...columns(input) })
    .returning('*')) as OutgoingWebhookRow[];
  return row;
}

/** Loads a hook the actor may manage (manage_outgoing_webhooks on its team). */
export async function getOutgoingWebhook(db: Knex | Knex.Transaction, actor: Actor, hookId: string, forUpdate = false): Promise<OutgoingWebhookRow> {
  const query = db('outgoing_webhooks').where({ id: hookId, delete_at: 0 }).first();
  if (forUpdate) query.forUpdate();
  const hook = (await query) as OutgoingWebhookRow | undefined;
  if (!hook) throw new NotFoundError('app.webhooks.get_outgoing.app_error', 'We could not find the outgoing webhook.');
  const { resource } = await loadTeamResource(db, actor, hook.team_id);
  authorize(actor, 'manage_outgoing_webhooks', resource);
  return hook;
}

export async function updateOutgoingWebhook(trx: Knex.Transaction, actor: Actor, hookId: string, input: OutgoingWebhookUpdate): Promise<OutgoingWebhookRow> {
  if (input.id !== hookId) throw invalidParam('hook_id', 'the id in the body does not match the URL');
  const old = await getOutgoingWebhook(trx, actor, hookId, true);
  if (input.team_id && input.team_id !== old.team_id) throw new InvalidInputError('api.webhook.team_mismatch.app_error', 'Unable to update the webhook across teams.');
  await checkChannelAndTriggers(trx, actor, old.team_id, input);
  await checkNoOverlap(trx, old.team_id, input, old.id);
  const [row] = (await trx('outgoing_webhooks').where({ id: hookId }).update({ ...columns(input), update_at: nowMs() }).returning('*')) as OutgoingWebhookRow[];
  return row;
}

/** Deletes a hook (soft); returns it as it was. */
export async function deleteOutgoingWebhook(trx: Knex.Transaction, actor: Actor, hookId: string): Promise<OutgoingWebhookRow> {
  const hook = await getOutgoingWebhook(trx, actor, hookId, true);
  const now = nowMs();
  await trx('outgoing_webhooks').where({ id: hookId }).update({ delete_at: now, update_at: now });
  return hook;
}

/** Gives a hook a new token; the old one no longer matches what the integration checks. */
export async function regenOutgoingWebhookToken(trx: Knex.Transaction, actor: Actor, hookId: string): Promise<OutgoingWebhookRow> {
  await getOutgoingWebhook(trx, actor, hookId, true);
  const [row] = (await trx('outgoing_webhooks').where({ id: hookId }).update({ token: newToken(), update_at: nowMs() }).returning('*')) as OutgoingWebhookRow[];
  return row;
}

/** Lists hooks of a channel, of a team, or (system-wide managers) of every team. */
export async function listOutgoingWebhooks(db: Knex, actor: Actor, options: { channelId?: string; teamId?: string; page: number; perPage: number }): Promise<OutgoingWebhookRow[]> {
  const query = db('outgoing_webhooks').where({ delete_at: 0 });
  if (options.channelId) {
    const access = await loadChannelAccess(db, actor, options.channelId);
    authorize(actor, 'manage_outgoing_webhooks', access.resource);
    query.where({ channel_id: options.channelId });
  } else if (options.teamId) {
    const { resource } = await loadTeamResource(db, actor, options.teamId);
    authorize(actor, 'manage_outgoing_webhooks', resource);
    query.where({ team_id: options.teamId });
  } else {
    authorize(actor, 'manage_outgoing_webhooks', { kind: 'system' });
  }
  return (await query.orderBy('create_at').orderBy('id').offset(options.page * options.perPage).limit(options.perPage)) as OutgoingWebhookRow[];
}

