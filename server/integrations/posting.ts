// How integrations (webhooks, slash commands) post: as a stored user, with server-set props, Slack
// attachments and Mattermost's post types, splitting long texts the way Mattermost does.
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import type { ChannelAccess } from '../channels/access.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { InvalidInputError, invalidParam } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import { MAX_MESSAGE_CHARS, presentPost, type PostRow } from '../posts/model.ts';
import { createPost, type PostDeps } from '../posts/service.ts';
import type { EventBus } from '../realtime/events.ts';
import type { UserRow } from '../users/presenter.ts';
import { slackLinksToMarkdown, type Attachment } from './slack.ts';

/** Mattermost's limit on a post's props as an integration may fill them (PostPropsMaxUserRunes). */
export const MAX_INTEGRATION_PROPS_CHARS = 800_000 - 40_000;

// Props only the server sets; an integration's own `props` cannot carry them.
const serverProps = new Set(['from_webhook', 'from_bot', 'from_plugin', 'override_username', 'override_icon_url', 'override_icon_emoji', 'attachments']);

/**
 * The actor an integration acts as: the stored user who created the hook or command. It has no session;
 * what it may do is decided by the same policy as that user's own requests.
 */
export function actorForUser(user: UserRow): Actor {
  return {
    userId: user.id,
    sessionId: '',
    roles: new Set(user.roles.split(/\s+/).filter(Boolean)),
    isBot: user.is_bot,
    via: 'bearer',
    ipAddress: '',
    userAgent: 'custodian-integration',
  };
}

/** The user an integration acts as, if still active. */
export async function activeUser(db: Knex | Knex.Transaction, userId: string): Promise<UserRow | undefined> {
  return (await db('users').where({ id: userId, delete_at: 0 }).first()) as UserRow | undefined;
}

export interface IntegrationPostInput {
  text: string;
  /** A post type the integration asked for; system_ types are refused. */
  type?: string;
  rootId?: string;
  /** The integration's own props (server-set keys are dropped). */
  props?: Record<string, unknown>;
  attachments?: Attachment[];
  /** Marks the post as integration content (from_webhook = "true"). */
  fromWebhook: boolean;
  overrideUsername?: string;
  overrideIconUrl?: string;
  overrideIconEmoji?: string;
  webhookDisplayName?: string;
  /** Leave Slack's `<url|text>` links as they are (a command response's skip_slack_parsing). */
  keepSlackLinks?: boolean;
}

/** Splits a text into pieces of at most `max` characters (code points), as Mattermost's SplitWebhookPost does. */
export function splitText(text: string, max = MAX_MESSAGE_CHARS): string[] {
  const chars = [...text];
  if (chars.length <= max) return [text];
  const parts: string[] = [];
  for (let i = 0; i < chars.length; i += max) parts.push(chars.slice(i, i + max).join(''));
  return parts;
}

/**
 * Creates the post(s) of an integration in a channel the actor may post to: one post per
 * MAX_MESSAGE_CHARS of text, attachments on the last one. Returns the posts in order.
 */
export async function createIntegrationPosts(
  trx: Knex.Transaction,
  deps: PostDeps,
  afterCommit: AfterCommit,
  actor: Actor,
  access: ChannelAccess,
  input: IntegrationPostInput,
): Promise<PostRow[]> {
  let type = input.type ?? '';
  if (type.startsWith('system_')) throw invalidParam('post.type', 'integrations cannot create system messages');
  const attachments = input.attachments ?? [];
  const props: Record<string, unknown> = Object.fromEntries(Object.entries(input.props ?? {}).filter(([k]) => !serverProps.has(k)));
  if (input.webhookDisplayName !== undefined) props.webhook_display_name = input.webhookDisplayName;
  const trusted: Record<string, unknown> = {};
  if (input.fromWebhook) trusted.from_webhook = 'true';
  if (input.overrideUsername) trusted.override_username = input.overrideUsername;
  if (input.overrideIconUrl) trusted.override_icon_url = input.overrideIconUrl;
  if (input.overrideIconEmoji) trusted.override_icon_emoji = input.overrideIconEmoji;
  if (attachments.length) type = 'slack_attachment';
  if (JSON.stringify({ ...props, ...trusted, attachments }).length > MAX_INTEGRATION_PROPS_CHARS) {
    throw new InvalidInputError('web.incoming_webhook.split_props_length.app_error', `Unable to split webhook props into ${MAX_INTEGRATION_PROPS_CHARS} character parts.`);
  }
  const pieces = splitText(input.keepSlackLinks ? input.text : slackLinksToMarkdown(input.text));
  const posts: PostRow[] = [];
  for (const [i, piece] of pieces.entries()) {
    const last = i === pieces.length - 1;
    const withAttachments = last && attachments.length > 0;
    const post = await createPost(
      trx, deps, afterCommit, actor,
      { channel_id: access.channel.id, message: piece, root_id: input.rootId ?? '', file_ids: [], pending_post_id: '', props },
      { access, trustedProps: withAttachments ? { ...trusted, attachments } : trusted, trustedType: type, senderName: input.overrideUsername },
    );
    posts.push(post);
  }
  return posts;
}

/**
 * Shows a message to one user only, without storing it (Mattermost's ephemeral posts): the user's
 * clients receive it as an `ephemeral_message` event.
 */
export function sendEphemeral(events: EventBus, userId: string, post: { channelId: string; rootId?: string; message: string; props?: Record<string, unknown> }): Record<string, unknown> {
  const now = nowMs();
  const row: PostRow = {
    id: newId(), create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false, user_id: userId,
    channel_id: post.channelId, root_id: post.rootId ?? '', original_id: '', message: post.message, type: 'system_ephemeral',
    props: post.props ?? {}, hashtags: '', file_ids: [], pending_post_id: '', reply_count: 0, last_reply_at: 0,
  };
  const presented = presentPost(row);
  events.publish({ event: 'ephemeral_message', data: { post: JSON.stringify(presented) }, broadcast: { user_id: userId } });
  return presented;
}
