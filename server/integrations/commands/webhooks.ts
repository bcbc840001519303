// A custom command's response_url: the integration may answer later (delayed or several answers) by
// POSTing CommandResponses to it, up to 5 times within 30 minutes, as in Mattermost.
import type { Knex } from 'knex';
import { authorizeChannel } from '../../channels/access.ts';
import { InvalidInputError, NotFoundError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { nowMs } from '../../lib/clock.ts';
import type { EventBus } from '../../realtime/events.ts';
import { activeUser, actorForUser } from '../posting.ts';
import { handleCommandResponse } from './responses.ts';
import { readCommandResponse, type CommandRow } from './model.ts';

export const COMMAND_WEBHOOK_LIFETIME_MS = 30 * 60_000;
export const COMMAND_WEBHOOK_MAX_USES = 5;

/** Records a response URL for one command execution; expired ones are swept at the same time. */
export async function createCommandWebhook(db: Knex, props: { commandId: string; userId: string; channelId: string; rootId: string }): Promise<string> {
  const id = newId();
  const now = nowMs();
  await db('command_webhooks').where('create_at', '<', now - COMMAND_WEBHOOK_LIFETIME_MS).delete();
  await db('command_webhooks').insert({ id, create_at: now, command_id: props.commandId, user_id: props.userId, channel_id: props.channelId, root_id: props.rootId, use_count: 0 });
  return id;
}

/** Handles a POST to /hooks/commands/{id}: a CommandResponse for the execution that URL was made for. */
export async function handleCommandWebhook(deps: { db: Knex; events: EventBus }, hookId: string, mediaType: string, body: string): Promise<void> {
  const read = readCommandResponse(mediaType, body);
  if ('problem' in read) throw new InvalidInputError('web.command_webhook.parse.app_error', 'Unable to parse incoming data.', read.problem);
  const hook = await deps.db('command_webhooks').where({ id: hookId }).first();
  if (!hook) throw new NotFoundError('app.command_webhook.get.missing', 'Unable to get the webhook.');
  // One atomic step decides whether this use is still allowed, so concurrent answers cannot exceed the limit.
  const [used] = await deps.db('command_webhooks')
    .where({ id: hookId })
    .where('use_count', '<', COMMAND_WEBHOOK_MAX_USES)
    .where('create_at', '>', nowMs() - COMMAND_WEBHOOK_LIFETIME_MS)
    .increment('use_count', 1)
    .returning('id');
  if (!used) throw new InvalidInputError('app.command_webhook.try_use.invalid', 'Invalid webhook.');
  const command = (await deps.db('commands').where({ id: hook.command_id, delete_at: 0 }).first()) as CommandRow | undefined;
  if (!command) throw new InvalidInputError('web.command_webhook.command.app_error', 'Couldn\'t find the command.');
  const user = await activeUser(deps.db, hook.user_id);
  if (!user) throw new InvalidInputError('web.command_webhook.command.app_error', 'Couldn\'t find the user.');
  const actor = actorForUser(user);
  // The caller must still be allowed to post where the command ran.
  await authorizeChannel(deps.db, actor, hook.channel_id, 'create_post');
  await handleCommandResponse(deps, { actor, channelId: hook.channel_id, rootId: hook.root_id }, { username: command.username, icon_url: command.icon_url }, read.response, false);
}
