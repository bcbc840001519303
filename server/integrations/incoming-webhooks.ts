// Incoming webhooks: URLs that let an outside system post into a channel as the hook's creator.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { authorize, can } from '../auth/policy.ts';
import { loadChannelAccess, type ChannelAccess } from '../channels/access.ts';
import type { ChannelRow } from '../channels/model.ts';
import { openDirectChannel } from '../channels/service.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, InvalidInputError, NotFoundError, invalidParam } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { PostRow } from '../posts/model.ts';
import type { PostDeps } from '../posts/service.ts';
import { loadTeamChannel, loadTeamResource, teamResourceOf } from './access.ts';
import type { IncomingWebhookRequest } from './incoming-payload.ts';
import { activeUser, actorForUser, createIntegrationPosts } from './posting.ts';
import { processSlackMarkup } from './slack.ts';

/** An incoming_webhooks row. */
export interface IncomingWebhookRow {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  user_id: string;
  channel_id: string;
  team_id: string;
  display_name: string;
  description: string;
  username: string;
  icon_url: string;
  channel_locked: boolean;
}

/** The IncomingWebhook object of API v4. */
export function presentIncomingWebhook(row: IncomingWebhookRow): Record<string, unknown> {
  return {
    id: row.id, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at, user_id: row.user_id,
    channel_id: row.channel_id, team_id: row.team_id, display_name: row.display_name, description: row.description,
    username: row.username, icon_url: row.icon_url, channel_locked: row.channel_locked,
  };
}

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
// Mattermost validates the default override name as a username (lowercase, starting with a letter).
const overrideName = z.string().max(64).refine((v) => v === '' || /^[a-z][a-z0-9._-]*$/.test(v), 'must be a valid username');

const hookFields = {
  display_name: z.string().max(64).default(''),
  description: z.string().max(500).default(''),
  username: overrideName.default(''),
  icon_url: z.string().max(1024).default(''),
  channel_locked: z.boolean().default(false),
};

export const newIncomingWebhookSchema = z.object({ channel_id: id, user_id: z.union([id, z.literal('')]).optional(), ...hookFields });
export type NewIncomingWebhook = z.output<typeof newIncomingWebhookSchema>;

export const incomingWebhookUpdateSchema = z.object({ id, channel_id: id.optional(), team_id: z.union([id, z.literal('')]).optional(), ...hookFields });
export type IncomingWebhookUpdate = z.output<typeof incomingWebhookUpdateSchema>;

/** Checks that the actor may manage incoming webhooks of the channel's team and read the channel. */
function authorizeHookChannel(actor: Actor, access: ChannelAccess): void {
  authorize(actor, 'manage_incoming_webhooks', teamResourceOf(access));
  if (!can(actor, 'read_channel', access.resource)) {
    throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 'missing permission read_channel');
  }
}

async function loadHook(db: Knex | Knex.Transaction, hookId: string, forUpdate = false): Promise<IncomingWebhookRow> {
  const query = db('incoming_webhooks').where({ id: hookId, delete_at: 0 }).first();
  if (forUpdate) query.forUpdate();
  const row = (await query) as IncomingWebhookRow | undefined;
  if (!row) throw new NotFoundError('app.webhooks.get_incoming.app_error', 'We could not find the incoming webhook.');
  return row;
}

/** Loads a hook the actor may manage: its team's manage_incoming_webhooks, and read access to its channel. */
export async function getIncomingWebhook(db: Knex | Knex.Transaction, actor: Actor, hookId: string, forUpdate = false): Promise<IncomingWebhookRow> {
  const hook = await loadHook(db, hookId, forUpdate);
  authorizeHookChannel(actor, await loadChannelAccess(db, actor, hook.channel_id));
  return hook;
}

/** Creates an incoming webhook for a team channel; it posts as the actor (or, for a manager, as `user_id`). */
export async function createIncomingWebhook(trx: Knex.Transaction, actor: Actor, input: NewIncomingWebhook): Promise<IncomingWebhookRow> {
  const access = await loadTeamChannel(trx, actor, input.channel_id);
  authorizeHookChannel(actor, access);
  let userId = actor.userId;
  if (input.user_id && input.user_id !== actor.userId) {
    if (!(await activeUser(trx, input.user_id))) throw new NotFoundError('app.user.missing_account.const', 'We could not find that user.');
    userId = input.user_id;
  }
  const now = nowMs();
  const [row] = (await trx('incoming_webhooks')
    .insert({
      id: newId(), create_at: now, update_at: now, delete_at: 0, user_id: userId, channel_id: access.channel.id, team_id: access.channel.team_id,
      display_name: input.display_name, description: input.description, username: input.username, icon_url: input.icon_url, channel_locked: input.channel_locked,
    })
    .returning('*')) as IncomingWebhookRow[];
  return row;
}

/** Updates a hook's settings; it stays in its team, and a new channel must be one the actor may manage hooks for. */
export async function updateIncomingWebhook(trx: Knex.Transaction, actor: Actor, hookId: string, input: IncomingWebhookUpdate): Promise<IncomingWebhookRow> {
  if (input.id !== hookId) throw invalidParam('hook_id', 'the id in the body does not match the URL');
  const old = await getIncomingWebhook(trx, actor, hookId, true);
  if (input.team_id && input.team_id !== old.team_id) throw new InvalidInputError('api.webhook.team_mismatch.app_error', 'Unable to update the webhook across teams.');
  const channelId = input.channel_id ?? old.channel_id;
  if (channelId !== old.channel_id) {
    const access = await loadTeamChannel(trx, actor, channelId);
    if (access.channel.team_id !== old.team_id) throw invalidParam('channel_id', 'the channel is in another team');
    authorizeHookChannel(actor, access);
  }
  const [row] = (await trx('incoming_webhooks')
    .where({ id: hookId })
    .update({
      channel_id: channelId, display_name: input.display_name, description: input.description, username: input.username,
      icon_url: input.icon_url, channel_locked: input.channel_locked, update_at: nowMs(),
    })
    .returning('*')) as IncomingWebhookRow[];
  return row;
}

/** Deletes a hook (softly: the row stays for the record); its URL stops working at once. */
export async function deleteIncomingWebhook(trx: Knex.Transaction, actor: Actor, hookId: string): Promise<void> {
  await getIncomingWebhook(trx, actor, hookId, true);
  const now = nowMs();
  await trx('incoming_webhooks').where({ id: hookId }).update({ delete_at: now, update_at: now });
}

/**
 * Lists hooks: a team's (manage_incoming_webhooks on it), or every team's for a system-wide manager.
 * Hooks of private channels the actor cannot read are left out.
 */
export async function listIncomingWebhooks(db: Knex, actor: Actor, options: { teamId?: string; page: number; perPage: number }): Promise<{ rows: IncomingWebhookRow[]; total: number }> {
  const query = db('incoming_webhooks as h').join('channels as c', 'c.id', 'h.channel_id').where('h.delete_at', 0);
  if (options.teamId) {
    const { resource } = await loadTeamResource(db, actor, options.teamId);
    authorize(actor, 'manage_incoming_webhooks', resource);
    query.where('h.team_id', options.teamId);
  } else {
    authorize(actor, 'manage_incoming_webhooks', { kind: 'system' });
  }
  if (!can(actor, 'manage_system', { kind: 'system' })) {
    query.where((q) => q.where('c.type', 'O').orWhereIn('h.channel_id', db('channel_members').where({ user_id: actor.userId }).select('channel_id')));
  }
  const [{ count }] = await query.clone().count({ count: '*' });
  const rows = (await query.select('h.*').orderBy('h.create_at').orderBy('h.id').offset(options.page * options.perPage).limit(options.perPage)) as IncomingWebhookRow[];
  return { rows, total: Number(count) };
}

function webhookError(id: string, message: string, kind: 'invalid' | 'forbidden' | 'missing' = 'invalid'): Error {
  if (kind === 'forbidden') return new ForbiddenError(id, message);
  if (kind === 'missing') return new NotFoundError(id, message);
  return new InvalidInputError(id, message);
}

/** Finds the channel a webhook request names: "@username" (a DM with the creator), "#name"/"~name" or "name", else the hook's own. */
async function targetChannel(trx: Knex.Transaction, deps: PostDeps, afterCommit: AfterCommit, actor: Actor, hook: IncomingWebhookRow, name: string): Promise<ChannelRow> {
  if (name.startsWith('@')) {
    const user = await trx('users').whereRaw('lower(username) = ?', [name.slice(1).toLowerCase()]).where({ delete_at: 0 }).first('id');
    if (!user) throw webhookError('web.incoming_webhook.user.app_error', 'Couldn\'t find the user.');
    return openDirectChannel(trx, { events: deps.events }, afterCommit, actor, [actor.userId, user.id]);
  }
  if (name) {
    const channelName = (name.startsWith('#') || name.startsWith('~') ? name.slice(1) : name).toLowerCase();
    const channel = (await trx('channels').where({ team_id: hook.team_id, name: channelName }).first()) as ChannelRow | undefined;
    if (!channel) throw webhookError('web.incoming_webhook.channel.app_error', 'Couldn\'t find the channel.', 'missing');
    return channel;
  }
  const channel = (await trx('channels').where({ id: hook.channel_id }).first()) as ChannelRow | undefined;
  if (!channel) throw webhookError('app.channel.get.existing.app_error', 'Unable to find the existing channel.', 'missing');
  return channel;
}

/**
 * Posts what an outside system sent to a hook's URL, as the hook's creator, following Mattermost's
 * HandleIncomingWebhook: the creator must still be active and allowed to post in the target channel,
 * and a channel-locked hook posts to its own channel only.
 */
export async function handleIncomingWebhook(trx: Knex.Transaction, deps: PostDeps, afterCommit: AfterCommit, hookId: string, req: IncomingWebhookRequest): Promise<PostRow[]> {
  if (req.text === '' && req.attachments === null) throw webhookError('web.incoming_webhook.text.app_error', 'No text specified.');
  if (req.priority && !req.priority.priority) throw invalidParam('webhook.priority.priority', 'Setting the priority of a post is required to use priority.');
  const hook = (await trx('incoming_webhooks').where({ id: hookId, delete_at: 0 }).first()) as IncomingWebhookRow | undefined;
  if (!hook) throw webhookError('web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
  const creator = await activeUser(trx, hook.user_id);
  if (!creator) throw webhookError('web.incoming_webhook.user.app_error', 'Couldn\'t find the user.', 'forbidden');
  const actor = actorForUser(creator);
  const channel = await targetChannel(trx, deps, afterCommit, actor, hook, req.channel);
  if (hook.channel_locked && channel.id !== hook.channel_id) {
    throw webhookError('web.incoming_webhook.channel_locked.app_error', 'This webhook is not permitted to post to the requested channel.', 'forbidden');
  }
  const access = await loadChannelAccess(trx, actor, channel.id);
  if (channel.type !== 'O' && !can(actor, 'read_channel', access.resource)) {
    throw webhookError('web.incoming_webhook.permissions.app_error', 'Inappropriate channel permissions.', 'forbidden');
  }
  const { text, attachments } = await processSlackMarkup(trx, req.text, req.attachments ?? []);
  return createIntegrationPosts(trx, deps, afterCommit, actor, access, {
    text, type: req.type, props: req.props, attachments, fromWebhook: true,
    overrideUsername: req.username || hook.username, overrideIconUrl: req.icon_url || hook.icon_url, overrideIconEmoji: req.icon_emoji,
    webhookDisplayName: hook.display_name,
  });
}
