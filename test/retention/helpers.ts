import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { newId } from '../../server/lib/ids.ts';
import { newPurgeState, runRetentionPurge, type PurgeOptions, type PurgeState } from '../../retention-jobs/retention/index.ts';
import type { TestApp } from '../support/app.ts';

export const DAY = 86_400_000;

/** Inserts a post as it was at `at` (straight into the table: tests need old posts). */
export async function insertPost(db: Knex, p: { user: string; channel: string; at: number; message?: string; rootId?: string; pinned?: boolean; fileIds?: string[] }): Promise<string> {
  const id = newId();
  await db('posts').insert({
    id, create_at: p.at, update_at: p.at, user_id: p.user, channel_id: p.channel, root_id: p.rootId ?? '', message: p.message ?? `message ${id}`,
    is_pinned: p.pinned ?? false, file_ids: JSON.stringify(p.fileIds ?? []),
  });
  return id;
}

/** Stores a file's content and its file_infos row (attached to `postId`, or unattached with ''). */
export async function insertFile(app: TestApp, p: { user: string; channel: string; at: number; postId: string; content?: string }): Promise<{ id: string; key: string }> {
  const id = newId();
  const key = `20260101/users/${p.user}/${id}/note.txt`;
  const content = Buffer.from(p.content ?? `file ${id}`);
  const stored = await app.services.files.put(key, Readable.from([content]));
  await app.ownerDb('file_infos').insert({
    id, creator_id: p.user, post_id: p.postId, channel_id: p.channel, create_at: p.at, update_at: p.at, path: key, name: 'note.txt', extension: 'txt',
    size: stored.size, mime_type: 'text/plain', sha256: stored.sha256,
  });
  return { id, key };
}

/** Runs a whole purge in-process on the app's own pool (the least-privileged role), as the job does. */
export async function purge(app: TestApp, options: Partial<PurgeOptions> & { now?: number } = {}): Promise<PurgeState> {
  const db = app.services.db;
  return runRetentionPurge(
    { db, store: app.services.files, logger: app.services.logger, nodeId: 'test', events: app.services.events },
    newPurgeState(options.now ?? Date.now()),
    {
      batchSize: 50, pauseMs: 0, actorId: '', jobId: 'test', ...options,
      transact: (_state, work) => db.transaction(work),
    },
  );
}

export async function exists(db: Knex, table: string, where: Record<string, unknown>): Promise<boolean> {
  return Boolean(await db(table).where(where).first());
}
