import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { authorize } from '../auth/policy.ts';
import { authorizeChannel, type ChannelAccess } from '../channels/access.ts';
import type { ChannelRow } from '../channels/model.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { nowMs } from '../lib/clock.ts';
import type { EventBus } from '../realtime/events.ts';
import { forgetDeletedReply, REPLY_DELETED } from '../threads/service.ts';
import { insertPost, type MentionTargets } from './insert.ts';
import { MAX_MESSAGE_CHARS, postColumns, presentPost, type PostRow } from './model.ts';
import { channelWideMentions, charLength, extractHashtags, extractMentions } from './text.ts';

export interface PostDeps {
  events: EventBus;
  /** Attaches uploaded files to a new post (checks ownership); returns their infos for the event. */
  attachFiles?: (trx: Knex.Transaction, actor: Actor, channelId: string, postId: string, fileIds: string[]) => Promise<Record<string, unknown>[]>;
}

const message = z.string().refine((m) => charLength(m) <= MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`);
const props = z.record(z.string(), z.unknown()).refine((p) => JSON.stringify(p).length <= 800_000, 'are too large');

export const newPostSchema = z.object({
  channel_id: z.string().regex(/^[a-z0-9]{26}$/),
  message: message.default(''),
  root_id: z.union([z.string().regex(/^[a-z0-9]{26}$/), z.literal('')]).default(''),
  file_ids: z.array(z.string().regex(/^[a-z0-9]{26}$/)).max(10).default([]),
  props: props.default({}),
  pending_post_id: z.string().max(64).default(''),
  type: z.string().max(64).optional(),
});
export type NewPost = z.output<typeof newPostSchema>;

export const postPatchSchema = z.object({
  message: message.optional(),
  is_pinned: z.boolean().optional(),
  props: props.optional(),
  file_ids: z.array(z.string()).max(10).optional(),
  has_reactions: z.boolean().optional(),
});
export type PostPatch = z.output<typeof postPatchSchema>;

// Props a client may not set: they mark system-generated content or webhook/bot overrides.
const reservedProps = ['from_webhook', 'from_bot', 'from_plugin', 'override_username', 'override_icon_url'];

/** Who a post notifies: in a direct message, the other person always; elsewhere @names, or everyone for @all/@channel/@here. */
function mentionTargets(channelType: string, text: string): MentionTargets {
  if (channelType === 'D') return { names: [], everyone: true };
  const names = extractMentions(text);
  return { names: [...names], everyone: [...names].some((n) => channelWideMentions.has(n)) };
}

async function loadRoot(db: Knex | Knex.Transaction, rootId: string, channelId: string): Promise<PostRow> {
  const root = (await db('posts').where({ id: rootId }).first(postColumns)) as PostRow | undefined;
  if (!root || root.channel_id !== channelId || root.delete_at > 0) throw new InvalidInputError('api.post.create_post.root_id.app_error', 'Invalid RootId parameter.');
  if (root.root_id) throw new InvalidInputError('api.post.create_post.root_id.app_error', 'Replies must point at the root of the thread.');
  return root;
}

function checkPostable(actor: Actor, access: ChannelAccess): void {
  authorize(actor, 'create_post', access.resource);
  if (access.channel.delete_at > 0) throw new ForbiddenError('api.post.create_post.can_not_post_to_deleted.error', 'Can not post to an archived channel.');
}

/**
 * The insert wrote nothing: the channel, the membership or the thread changed since `access` was
 * read (it may come from a cache). Throws the error the fresh state calls for, or returns the fresh
 * access when everything checks out again (a concurrent change that was undone).
 */
async function recheck(exec: Knex | Knex.Transaction, actor: Actor, input: NewPost): Promise<ChannelAccess> {
  const access = await authorizeChannel(exec, actor, input.channel_id, 'create_post');
  checkPostable(actor, access);
  if (input.root_id) await loadRoot(exec, input.root_id, access.channel.id);
  return access;
}

/**
 * Creates a post: checks the channel allows it, stores it, moves the channel's counters and the
 * mentioned members' mention counts, and — after commit — broadcasts `posted` to the channel.
 *
 * `exec` may be the pool itself when the post has no files: the write is one statement (insert.ts),
 * atomic on its own. `options.access` may come from a cache: the statement re-checks at write time
 * what the decision relied on (channel live, membership present), and a stale decision is redone.
 */
export async function createPost(
  exec: Knex | Knex.Transaction,
  deps: PostDeps,
  afterCommit: AfterCommit,
  actor: Actor,
  input: NewPost,
  options: {
    access?: ChannelAccess;
    /** Server-set props (from_webhook, override_username, attachments...) that clients cannot set. */
    trustedProps?: Record<string, unknown>;
    /** A post type the server chose (integrations: slack_attachment, me); clients only get custom_ types. */
    trustedType?: string;
    senderName?: string;
  } = {},
): Promise<PostRow> {
  let access = options.access ?? (await authorizeChannel(exec, actor, input.channel_id, 'create_post'));
  checkPostable(actor, access);
  const hasAttachments = Array.isArray(options.trustedProps?.attachments) && (options.trustedProps.attachments as unknown[]).length > 0;
  if (!input.message.trim() && input.file_ids.length === 0 && !hasAttachments) throw new InvalidInputError('api.post.create_post.message_empty', 'A post needs a message, a file or an attachment.');
  if (input.file_ids.length && !deps.attachFiles) throw new InvalidInputError('api.post.create_post.files.app_error', 'File attachments are not available.');
  if (input.file_ids.length && !exec.isTransaction) throw new Error('a post with files must be created in a transaction');
  const clientProps = Object.fromEntries(Object.entries(input.props).filter(([k]) => !reservedProps.includes(k)));
  const now = nowMs();
  const post: PostRow = {
    id: newId(), create_at: now, update_at: now, edit_at: 0, delete_at: 0, is_pinned: false,
    user_id: actor.userId, channel_id: access.channel.id, root_id: input.root_id, original_id: '',
    message: input.message, type: options.trustedType ?? (input.type && input.type.startsWith('custom_') ? input.type : ''),
    // Every post a bot makes says so, as in Mattermost; clients cannot set or forge the mark.
    props: { ...clientProps, ...options.trustedProps, ...(actor.isBot ? { from_bot: 'true' } : {}) }, hashtags: extractHashtags(input.message),
    file_ids: input.file_ids, pending_post_id: input.pending_post_id, reply_count: 0, last_reply_at: 0,
  };
  const targets = mentionTargets(access.channel.type, input.message);
  let outcome = await insertPost(exec, post, { requireMembership: Boolean(access.channelMember) }, targets);
  if (!outcome.inserted) {
    access = await recheck(exec, actor, input);
    outcome = await insertPost(exec, post, { requireMembership: Boolean(access.channelMember) }, targets);
    if (!outcome.inserted) throw new ConflictError('api.post.create_post.conflict.app_error', 'The channel or thread changed while posting; try again.');
  }
  const files = input.file_ids.length ? await deps.attachFiles!(exec as Knex.Transaction, actor, access.channel.id, post.id, input.file_ids) : [];
  const senderName = options.senderName ?? `@${actor.username ?? outcome.username}`;
  afterCommit(() => announcePost(deps.events, access.channel, post, { files, senderName, mentions: outcome.mentions }));
  return post;
}

/** Broadcasts `posted` to the channel's members (call after commit). */
export function announcePost(events: EventBus, channel: ChannelRow, post: PostRow, extra: { files?: Record<string, unknown>[]; senderName: string; mentions?: string[] }): void {
  const data: Record<string, unknown> = {
    channel_display_name: channel.display_name, channel_name: channel.name, channel_type: channel.type,
    post: JSON.stringify(presentPost(post, { files: extra.files })), sender_name: extra.senderName, team_id: channel.team_id, set_online: true,
  };
  if (extra.mentions?.length) data.mentions = JSON.stringify(extra.mentions);
  events.publish({ event: 'posted', data, broadcast: { channel_id: channel.id } });
}

/** Loads a post the actor may read, with channel access; deleted posts are not found. */
export async function loadPostAccess(db: Knex | Knex.Transaction, actor: Actor, postId: string, permission: 'read_channel' | 'create_post' | 'add_reaction' | 'remove_reaction' = 'read_channel') {
  const post = (await db('posts').where({ id: postId }).first(postColumns)) as PostRow | undefined;
  if (!post || post.delete_at > 0) throw new NotFoundError('app.post.get.app_error', 'Unable to get the post.');
  const access = await authorizeChannel(db, actor, post.channel_id, permission);
  return { post, access };
}

/** Keeps the version of a post that an edit or delete is about to replace (compliance needs every version). */
async function recordVersion(trx: Knex.Transaction, post: PostRow, reason: 'edit' | 'delete', actor: Actor, now: number): Promise<void> {
  await trx('post_versions').insert({
    post_id: post.id, reason, message: post.message, props: JSON.stringify(post.props), file_ids: JSON.stringify(post.file_ids),
    is_pinned: post.is_pinned, version_create_at: post.edit_at || post.create_at, replaced_at: now, replaced_by: actor.userId,
  });
}

function authorizeOwnOrOthers(actor: Actor, post: PostRow, access: ChannelAccess, own: 'edit_post' | 'delete_post', others: 'edit_others_posts' | 'delete_others_posts') {
  authorize(actor, post.user_id === actor.userId ? own : others, access.resource);
  if (access.channel.delete_at > 0) throw new ForbiddenError('api.post.update_post.can_not_update_post_in_deleted.error', 'Can not change a post in an archived channel.');
}

/** Edits a post (message, props, pin); the replaced version is kept in post_versions. */
export async function patchPost(trx: Knex.Transaction, deps: PostDeps, afterCommit: AfterCommit, actor: Actor, postId: string, patch: PostPatch): Promise<PostRow> {
  const { post, access } = await loadPostAccess(trx, actor, postId);
  const editsContent = patch.message !== undefined || patch.props !== undefined;
  if (editsContent) authorizeOwnOrOthers(actor, post, access, 'edit_post', 'edit_others_posts');
  if (patch.is_pinned !== undefined) authorize(actor, 'create_post', access.resource);
  if (post.type.startsWith('system_')) throw new ForbiddenError('api.post.update_post.system_message.app_error', 'System messages cannot be edited.');
  const locked = (await trx('posts').where({ id: post.id }).forUpdate().first(postColumns)) as PostRow | undefined;
  // Retention may have removed the post between the read above and this lock.
  if (!locked) throw new NotFoundError('app.post.get.app_error', 'Unable to get the post.');
  const now = nowMs();
  await recordVersion(trx, locked, 'edit', actor, now);
  const changes: Partial<PostRow> = { update_at: now };
  if (patch.message !== undefined && patch.message !== locked.message) {
    Object.assign(changes, { message: patch.message, hashtags: extractHashtags(patch.message), edit_at: now });
  }
  if (patch.props !== undefined) changes.props = { ...Object.fromEntries(Object.entries(patch.props).filter(([k]) => !reservedProps.includes(k))), ...Object.fromEntries(Object.entries(locked.props).filter(([k]) => reservedProps.includes(k))) };
  if (patch.is_pinned !== undefined) changes.is_pinned = patch.is_pinned;
  const [updated] = (await trx('posts').where({ id: post.id }).update({ ...changes, ...(changes.props ? { props: JSON.stringify(changes.props) } : {}) }).returning(postColumns)) as PostRow[];
  afterCommit(() => deps.events.publish({ event: 'post_edited', data: { post: JSON.stringify(presentPost(updated)) }, broadcast: { channel_id: post.channel_id } }));
  return updated;
}

/**
 * Deletes a post (and a root's replies) softly: API readers no longer see it, but every version stays
 * for compliance until retention removes it.
 */
export async function deletePost(trx: Knex.Transaction, deps: PostDeps, afterCommit: AfterCommit, actor: Actor, postId: string): Promise<PostRow> {
  const { post, access } = await loadPostAccess(trx, actor, postId);
  authorizeOwnOrOthers(actor, post, access, 'delete_post', 'delete_others_posts');
  const now = nowMs();
  // Deleting a thread's root deletes its replies too, as in Mattermost.
  const victims = (await trx('posts')
    .select(postColumns)
    .where((q) => (post.root_id ? q.where({ id: post.id }) : q.where({ id: post.id }).orWhere({ root_id: post.id })))
    .andWhere({ delete_at: 0 })
    .forUpdate()) as PostRow[];
  for (const victim of victims) await recordVersion(trx, victim, 'delete', actor, now);
  await trx('posts').whereIn('id', victims.map((v) => v.id)).update({ delete_at: now, update_at: now });
  await trx('file_infos').whereIn('post_id', victims.map((v) => v.id)).update({ delete_at: now, update_at: now });
  const relieved = post.root_id ? await forgetDeletedReply(trx, post, mentionTargets(access.channel.type, post.message)) : [];
  const deleted = { ...post, delete_at: now, update_at: now };
  afterCommit(() => {
    // As in Mattermost: members learn that the post is gone; only system admins learn who deleted it.
    const data = { post: JSON.stringify({ ...presentPost(post), delete_at: now, update_at: now }) };
    deps.events.publish({ event: 'post_deleted', data, broadcast: { channel_id: post.channel_id, contains_sanitized_data: true } });
    deps.events.publish({ event: 'post_deleted', data: { ...data, delete_by: actor.userId }, broadcast: { channel_id: post.channel_id, contains_sensitive_data: true } });
    if (post.root_id) {
      deps.events.publish({ event: REPLY_DELETED, internal: true, data: { root_id: post.root_id, reply_create_at: post.create_at, relieved }, broadcast: { channel_id: post.channel_id } });
    }
  });
  return deleted;
}

/**
 * True when the actor may see the edit history of a post: its author only, as in Mattermost. Prior
 * versions are otherwise for compliance eyes only (eDiscovery), moderators included.
 */
export function mayReadHistory(actor: Actor, post: PostRow, _access: ChannelAccess): boolean {
  return post.user_id === actor.userId;
}
