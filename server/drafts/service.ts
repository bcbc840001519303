import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { authorizeChannel } from '../channels/access.ts';
import type { AfterCommit } from '../db/transaction.ts';
import { ForbiddenError, InvalidInputError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import { MAX_MESSAGE_CHARS } from '../posts/model.ts';
import { charLength } from '../posts/text.ts';
import type { EventBus } from '../realtime/events.ts';
import { presentDraft, type DraftRow } from './model.ts';

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
const jsonObject = z.record(z.string(), z.unknown()).refine((p) => JSON.stringify(p).length <= 800_000, 'is too large');

/**
 * A draft as clients send it. The author is always the caller and the times are the server's, so
 * `user_id`, `create_at`, `update_at` and `delete_at` are accepted and ignored, as in Mattermost.
 */
export const draftSchema = z.object({
  channel_id: id,
  root_id: z.union([id, z.literal('')]).default(''),
  message: z.string().refine((m) => charLength(m) <= MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`).default(''),
  props: jsonObject.nullable().default({}).transform((p) => p ?? {}),
  file_ids: z.array(id).max(10).nullable().default([]).transform((f) => [...new Set(f ?? [])]),
  priority: jsonObject.nullable().optional(),
});
export type DraftInput = z.output<typeof draftSchema>;

function announce(events: EventBus, event: 'draft_created' | 'draft_updated' | 'draft_deleted', row: DraftRow): void {
  events.publish({ event, data: { draft: JSON.stringify(presentDraft(row)) }, broadcast: { user_id: row.user_id } });
}

/**
 * Saves the caller's draft for a channel or thread, in a channel they are a member of and may post
 * to. An empty draft (no text, no files) is deleted instead, as Mattermost does. Returns the saved
 * draft, or null when it was emptied.
 */
export async function upsertDraft(trx: Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, input: DraftInput): Promise<DraftRow | null> {
  const access = await authorizeChannel(trx, actor, input.channel_id, 'create_post');
  if (!access.channelMember) throw new ForbiddenError('api.draft.channel_member.app_error', 'Drafts are kept only for channels you are a member of.');
  if (access.channel.delete_at > 0) throw new InvalidInputError('api.draft.create_draft.can_not_draft_to_deleted.error', 'Can not save a draft in an archived channel.');
  if (input.root_id) {
    const root = await trx('posts').where({ id: input.root_id, channel_id: access.channel.id, root_id: '', delete_at: 0 }).first('id');
    if (!root) throw new InvalidInputError('model.draft.is_valid.root_id.app_error', 'Invalid RootId parameter.');
  }
  if (!input.message && input.file_ids.length === 0) {
    await deleteDraft(trx, events, afterCommit, actor, access.channel.id, input.root_id);
    return null;
  }
  const now = nowMs();
  const { rows } = await trx.raw(
    `INSERT INTO drafts (user_id, channel_id, root_id, create_at, update_at, message, props, file_ids, priority)
     VALUES (:user_id, :channel_id, :root_id, :now, :now, :message, :props::jsonb, :file_ids::jsonb, :priority::jsonb)
     ON CONFLICT (user_id, channel_id, root_id) DO UPDATE SET update_at = excluded.update_at, message = excluded.message,
       props = excluded.props, file_ids = excluded.file_ids, priority = excluded.priority
     RETURNING *, (xmax = 0) AS inserted`,
    {
      user_id: actor.userId, channel_id: access.channel.id, root_id: input.root_id, now, message: input.message,
      props: JSON.stringify(input.props), file_ids: JSON.stringify(input.file_ids), priority: input.priority ? JSON.stringify(input.priority) : null,
    },
  );
  const { inserted, ...row } = rows[0] as DraftRow & { inserted: boolean };
  afterCommit(() => announce(events, inserted ? 'draft_created' : 'draft_updated', row));
  return row;
}

/**
 * The caller's drafts in a team's channels and in direct and group messages, newest first; only
 * channels they are still a member of, not archived, and threads whose root still exists.
 */
export async function listDrafts(db: Knex, actor: Actor, teamId: string): Promise<DraftRow[]> {
  return (await db('drafts as d')
    .join('channels as c', 'c.id', 'd.channel_id')
    .join('channel_members as cm', (j) => j.on('cm.channel_id', 'd.channel_id').andOn('cm.user_id', 'd.user_id'))
    .leftJoin('posts as p', 'p.id', 'd.root_id')
    .where('d.user_id', actor.userId)
    .whereIn('c.team_id', [teamId, ''])
    .where('c.delete_at', 0)
    .where((q) => q.where('d.root_id', '').orWhere('p.delete_at', 0))
    .orderBy('d.update_at', 'desc')
    .select('d.*')) as DraftRow[];
}

/** Deletes the caller's draft for a channel or thread; deleting one that does not exist is not an error. */
export async function deleteDraft(db: Knex | Knex.Transaction, events: EventBus, afterCommit: AfterCommit, actor: Actor, channelId: string, rootId: string): Promise<void> {
  const rows = (await db('drafts').where({ user_id: actor.userId, channel_id: channelId, root_id: rootId }).delete().returning('*')) as DraftRow[];
  for (const row of rows) afterCommit(() => announce(events, 'draft_deleted', row));
}
