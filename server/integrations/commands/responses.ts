// What happens to a slash command's CommandResponse: in_channel answers become posts by the caller,
// ephemeral ones are shown to the caller only and never stored.
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor.ts';
import { loadChannelAccess } from '../../channels/access.ts';
import { inTransaction } from '../../db/transaction.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import type { EventBus } from '../../realtime/events.ts';
import { createIntegrationPosts, sendEphemeral } from '../posting.ts';
import { processSlackMarkup } from '../slack.ts';
import type { CommandResponse } from './model.ts';

/** Where a command's response goes: the caller, the channel the command ran in, the thread (if any). */
export interface ResponseTarget {
  actor: Actor;
  channelId: string;
  rootId: string;
}

/** Posts (or shows) a command's response and its extra responses; answers with the main one. */
export async function handleCommandResponse(deps: { db: Knex; events: EventBus }, target: ResponseTarget, command: { username: string; icon_url: string }, response: CommandResponse, builtIn: boolean): Promise<CommandResponse> {
  await handleResponsePost(deps, target, command, response, builtIn);
  for (const extra of response.extra_responses ?? []) await handleResponsePost(deps, target, command, extra, builtIn);
  return response;
}

async function handleResponsePost(deps: { db: Knex; events: EventBus }, target: ResponseTarget, command: { username: string; icon_url: string }, response: CommandResponse, builtIn: boolean): Promise<void> {
  const { actor, rootId } = target;
  let channelId = target.channelId;
  if (response.channel_id && response.channel_id !== channelId) {
    // An integration may answer into another channel, but only one the caller is a member of.
    const other = /^[a-z0-9]{26}$/.test(response.channel_id) ? await deps.db('channel_members').where({ channel_id: response.channel_id, user_id: actor.userId }).first('channel_id') : undefined;
    if (!other) throw new ForbiddenError('api.command.command_post.forbidden.app_error', 'Specified user is not a member of specified channel.');
    channelId = response.channel_id;
  }
  const overrideUsername = command.username || response.username;
  const overrideIconUrl = command.icon_url || response.icon_url;
  const fromWebhook = !builtIn || Boolean(overrideUsername) || Boolean(overrideIconUrl);
  let text = response.text;
  let attachments = response.attachments ?? [];
  if (!response.skip_slack_parsing) ({ text, attachments } = await processSlackMarkup(deps.db, text, attachments));
  if (response.response_type === 'in_channel') {
    if (!text.trim() && attachments.length === 0) return;
    // The post is the caller's (as in Mattermost), marked as integration content when a custom command answered.
    await inTransaction(deps.db, async (trx, afterCommit) => {
      const access = await loadChannelAccess(trx, actor, channelId);
      await createIntegrationPosts(trx, { events: deps.events }, afterCommit, actor, access, {
        text, type: response.type, rootId, props: response.props ?? {}, attachments, fromWebhook,
        overrideUsername, overrideIconUrl, keepSlackLinks: response.skip_slack_parsing,
      });
    });
    return;
  }
  if (text || attachments.length) {
    const props: Record<string, unknown> = { ...(response.props ?? {}) };
    if (attachments.length) props.attachments = attachments;
    if (overrideUsername) props.override_username = overrideUsername;
    if (overrideIconUrl) props.override_icon_url = overrideIconUrl;
    if (fromWebhook) props.from_webhook = 'true';
    sendEphemeral(deps.events, actor.userId, { channelId, rootId, message: text, props });
  }
}
