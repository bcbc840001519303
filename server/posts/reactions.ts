import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { authorize } from '../auth/policy.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, NotFoundError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import type { EventBus } from '../realtime/events.ts';
import { presentReaction, type ReactionRow } from './model.ts';
import { loadPostAccess } from './service.ts';

/**
 * Adds a reaction (re-activating one removed earlier). The post's update_at moves too, so incremental
 * compliance exports pick the reaction up as an update of the post.
 */
export async function addReaction(trx: Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, postId: string, emojiName: string): Promise<ReactionRow> {
  const { post, access } = await loadPostAccess(trx, actor, postId);
  authorize(actor, 'add_reaction', access.resource);
  if (access.channel.delete_at > 0) throw new ForbiddenError('api.reaction.save.archived_channel.app_error', 'You cannot react in an archived channel.');
  const now = nowMs();
  const [reaction] = (await trx('reactions')
    .insert({ user_id: actor.userId, post_id: post.id, emoji_name: emojiName, channel_id: post.channel_id, create_at: now, update_at: now, delete_at: 0 })
    .onConflict(['post_id', 'user_id', 'emoji_name'])
    .merge({ update_at: now, delete_at: 0 })
    .returning('*')) as ReactionRow[];
  await trx('posts').where({ id: post.id }).update({ update_at: now });
  afterCommit(() => events.publish({ event: 'reaction_added', data: { reaction: JSON.stringify(presentReaction(reaction)) }, broadcast: { channel_id: post.channel_id } }));
  return reaction;
}

/** Removes the actor's own reaction (kept as a soft-deleted row for compliance). */
export async function removeReaction(trx: Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, userId: string, postId: string, emojiName: string): Promise<void> {
  const { post, access } = await loadPostAccess(trx, actor, postId);
  if (userId !== actor.userId) authorize(actor, 'manage_system', access.resource);
  authorize(actor, 'remove_reaction', access.resource);
  const now = nowMs();
  const [reaction] = (await trx('reactions').where({ post_id: post.id, user_id: userId, emoji_name: emojiName, delete_at: 0 }).update({ delete_at: now, update_at: now }).returning('*')) as ReactionRow[];
  if (!reaction) throw new NotFoundError('app.reaction.delete.missing.app_error', 'That reaction does not exist.');
  await trx('posts').where({ id: post.id }).update({ update_at: now });
  afterCommit(() => events.publish({ event: 'reaction_removed', data: { reaction: JSON.stringify(presentReaction(reaction)) }, broadcast: { channel_id: post.channel_id } }));
}
