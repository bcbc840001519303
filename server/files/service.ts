import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { authorize } from '../auth/policy.ts';
import { authorizeChannel } from '../channels/access.ts';
import { ForbiddenError, InvalidInputError, NotFoundError, PayloadTooLargeError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import { isId, newId } from '../lib/ids.ts';
import { presentFileInfo, type FileInfoJson, type FileInfoRow } from './presenter.ts';
import { sniff, SNIFF_BYTES, type Sniffed } from './sniff.ts';
import { fileKey, type ByteRange, type FileStore } from './storage.ts';

/** What the files service needs: the database, the blob store and the per-file size limit. */
export interface FileDeps {
  db: Knex;
  store: FileStore;
  maxFileBytes: number;
}

/** Mattermost lets a post carry at most this many files. */
export const MAX_FILES_PER_POST = 10;

/** A file whose content is stored but which has no file_infos row yet (see `recordFiles`). */
export interface StagedFile extends Sniffed {
  id: string;
  key: string;
  name: string;
  extension: string;
  size: number;
  sha256: string;
}

type Content = Readable | AsyncIterable<Uint8Array>;

/** The display name kept for a file: no directories, no control characters, at most 256 characters. */
export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? '').toWellFormed().split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  let name = base.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '').trim();
  if (name === '' || name === '.' || name === '..') name = 'file';
  if (name.length > 256) {
    const ext = extensionOf(name);
    name = ext && ext.length < 64 ? `${name.slice(0, 255 - ext.length)}.${ext}` : name.slice(0, 256);
  }
  return name;
}

/** Lower-case extension without the dot, as Mattermost reports it ('' when there is none). */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase().slice(0, 64) : '';
}

function fileTooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError('api.file.upload_file.too_large_detailed.app_error', `The file is larger than the limit of ${limit} bytes.`);
}

function fileNotFound(): NotFoundError {
  return new NotFoundError('app.file_info.get.app_error', 'Unable to find the file.');
}

/** Passes the content through, counting bytes (failing past `limit`) and keeping the first bytes for sniffing. */
async function* metered(content: Content, limit: number, head: Buffer[]): AsyncGenerator<Buffer> {
  let size = 0;
  let kept = 0;
  for await (const chunk of content) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buf.length;
    if (size > limit) throw fileTooLarge(limit);
    if (kept < SNIFF_BYTES) {
      head.push(buf.subarray(0, SNIFF_BYTES - kept));
      kept += Math.min(buf.length, SNIFF_BYTES - kept);
    }
    yield buf;
  }
}

/**
 * Streams one file into the store (never holding it in memory), enforcing the size limit as bytes
 * arrive and sniffing its type. A 413 or any failure leaves nothing stored. No row is written yet.
 */
export async function stageFile(deps: FileDeps, actor: Actor, rawName: string | undefined, content: Content): Promise<StagedFile> {
  const id = newId();
  const name = cleanFileName(rawName);
  const key = fileKey({ at: nowMs(), userId: actor.userId, fileId: id, name });
  const head: Buffer[] = [];
  const stored = await deps.store.put(key, metered(content, deps.maxFileBytes, head));
  const prefix = Buffer.concat(head);
  return { id, key, name, extension: extensionOf(name), size: stored.size, sha256: stored.sha256, ...sniff(prefix, stored.size <= prefix.length) };
}

/** Removes the content of staged files that will not be recorded (failures are ignored: nothing points at them). */
export async function discardStaged(store: FileStore, staged: StagedFile[]): Promise<void> {
  await Promise.all(staged.map((file) => store.delete(file.key).catch(() => undefined)));
}

/** Checks that the actor may upload to the channel and that it is not archived. */
export async function authorizeUpload(db: Knex | Knex.Transaction, actor: Actor, channelId: string): Promise<void> {
  const { channel } = await authorizeChannel(db, actor, channelId, 'upload_file');
  if (channel.delete_at > 0) throw new InvalidInputError('api.file.upload_file.archived_channel.app_error', 'Files cannot be uploaded to an archived channel.');
}

/** Writes the file_infos rows of staged files, re-checking the upload permission in the same transaction. */
export async function recordFiles(db: Knex, actor: Actor, channelId: string, staged: StagedFile[]): Promise<FileInfoRow[]> {
  if (staged.length === 0) return [];
  return db.transaction(async (trx) => {
    await authorizeUpload(trx, actor, channelId);
    const now = nowMs();
    const rows = staged.map((f) => ({
      id: f.id, creator_id: actor.userId, post_id: '', channel_id: channelId, create_at: now, update_at: now, delete_at: 0,
      path: f.key, name: f.name, extension: f.extension, size: f.size, mime_type: f.mimeType, sha256: f.sha256, width: f.width, height: f.height,
    }));
    const inserted: FileInfoRow[] = await trx('file_infos').insert(rows).returning('*');
    const byId = new Map(inserted.map((r) => [r.id, r]));
    return staged.map((f) => byId.get(f.id) as FileInfoRow);
  });
}

/**
 * Uploads one file to a channel: permission check, streamed store, row. The caller owns `content` and
 * must drain or destroy it if this rejects before reading it.
 */
export async function uploadFile(deps: FileDeps, actor: Actor, channelId: string, name: string, content: Content): Promise<FileInfoRow> {
  await authorizeUpload(deps.db, actor, channelId);
  const staged = await stageFile(deps, actor, name, content);
  try {
    const [row] = await recordFiles(deps.db, actor, channelId, [staged]);
    return row;
  } catch (err) {
    await discardStaged(deps.store, [staged]);
    throw err;
  }
}

/**
 * A file's info, when the actor may read it: they must be able to read its channel, and a file not yet
 * attached to a post is visible to its uploader only. Deleted files are not found.
 */
export async function getFileInfo(db: Knex, actor: Actor, fileId: string): Promise<FileInfoRow> {
  const row: FileInfoRow | undefined = await db('file_infos').where({ id: fileId }).first();
  if (!row || row.delete_at > 0) throw fileNotFound();
  if (row.post_id === '' && row.creator_id !== actor.userId) {
    throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 'file is not attached to a post');
  }
  await authorizeChannel(db, actor, row.channel_id, 'read_channel');
  return row;
}

/** Opens a file's stored content, or the inclusive byte range of it. */
export function openFileContent(store: FileStore, row: FileInfoRow, range?: ByteRange): Promise<Readable> {
  return store.open(row.path, range);
}

/**
 * Marks a file deleted (its content stays for retention and legal hold to decide). The uploader may
 * delete their own file while it is not attached to a post; anything else needs manage_system.
 */
export async function deleteFile(db: Knex, actor: Actor, fileId: string): Promise<void> {
  const row: FileInfoRow | undefined = await db('file_infos').where({ id: fileId }).first();
  if (!row || row.delete_at > 0) throw fileNotFound();
  if (row.creator_id !== actor.userId || row.post_id !== '') authorize(actor, 'manage_system', { kind: 'system' });
  const now = nowMs();
  await db.transaction(async (trx) => {
    await trx('file_infos').where({ id: fileId }).update({ delete_at: now, update_at: now });
    // The post changes too, so incremental compliance exports pick the file deletion up as an update.
    if (row.post_id) await trx('posts').where({ id: row.post_id }).update({ update_at: now });
  });
}

function invalidAttachment(detail: string): InvalidInputError {
  return new InvalidInputError('api.post.file_ids.invalid.app_error', 'One or more files cannot be attached to this post.', detail);
}

/**
 * Attaches uploaded files to a new post, in the post's transaction. Each file must exist, not be deleted,
 * have been uploaded by the actor to the same channel, and not belong to another post; otherwise
 * InvalidInputError and nothing changes. Returns the updated rows in the order of `fileIds`.
 */
export async function attachFilesToPost(trx: Knex.Transaction, actor: Actor, channelId: string, postId: string, fileIds: readonly string[]): Promise<FileInfoRow[]> {
  const ids = [...new Set(fileIds)];
  if (ids.length === 0) return [];
  if (ids.length > MAX_FILES_PER_POST) throw invalidAttachment(`at most ${MAX_FILES_PER_POST} files per post`);
  for (const id of ids) if (!isId(id)) throw invalidAttachment(`malformed file id ${JSON.stringify(String(id).slice(0, 40))}`);
  const rows: FileInfoRow[] = await trx('file_infos').whereIn('id', ids).forUpdate();
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const id of ids) {
    const row = byId.get(id);
    if (!row || row.delete_at > 0) throw invalidAttachment(`file ${id} does not exist`);
    if (row.creator_id !== actor.userId) throw invalidAttachment(`file ${id} was uploaded by someone else`);
    if (row.channel_id !== channelId) throw invalidAttachment(`file ${id} was uploaded to another channel`);
    if (row.post_id !== '' && row.post_id !== postId) throw invalidAttachment(`file ${id} is attached to another post`);
  }
  const updated: FileInfoRow[] = await trx('file_infos').whereIn('id', ids).update({ post_id: postId, update_at: nowMs() }).returning('*');
  const updatedById = new Map(updated.map((r) => [r.id, r]));
  return ids.map((id) => updatedById.get(id) as FileInfoRow);
}

/** The live (not deleted) file infos of each post, oldest first, for post metadata; posts without files are absent. */
export async function fileInfosForPosts(db: Knex | Knex.Transaction, postIds: readonly string[]): Promise<Map<string, FileInfoRow[]>> {
  const grouped = new Map<string, FileInfoRow[]>();
  const ids = [...new Set(postIds)].filter((id) => id !== '');
  if (ids.length === 0) return grouped;
  const rows: FileInfoRow[] = await db('file_infos').whereIn('post_id', ids).where('delete_at', 0).orderBy([{ column: 'create_at' }, { column: 'id' }]);
  for (const row of rows) {
    const list = grouped.get(row.post_id);
    if (list) list.push(row);
    else grouped.set(row.post_id, [row]);
  }
  return grouped;
}

/**
 * The two hooks `postRoutes(services, postFileHooks)` takes, answering presented FileInfo objects:
 * attach files to a new post, and load file infos for post metadata.
 */
export const postFileHooks = {
  attachFiles: async (trx: Knex.Transaction, actor: Actor, channelId: string, postId: string, fileIds: string[]): Promise<FileInfoJson[]> =>
    (await attachFilesToPost(trx, actor, channelId, postId, fileIds)).map(presentFileInfo),
  loadFiles: async (db: Knex, postIds: string[]): Promise<Map<string, FileInfoJson[]>> =>
    new Map([...(await fileInfosForPosts(db, postIds))].map(([postId, rows]) => [postId, rows.map(presentFileInfo)])),
};
