// The items of a case export, streamed from one snapshot: every hit of the search (or every message a
// hold covers), oldest first, each post's prior versions before its current state, with what an
// EML and a load file row need (people, channel, team, participants at the time, files).
import type { Knex } from 'knex';
import { hitsSql, type HitVersionRow, type ResolvedSearch } from '../search.ts';
import type { ExportItem, ItemFile, Person } from './eml.ts';

const FETCH_ROWS = 500;

type HitRow = HitVersionRow;

/** Everything about one post the native JSONL keeps: its row, every version, every reaction, its files. */
export interface NativePost {
  post: Record<string, unknown>;
  versions: Record<string, unknown>[];
  reactions: Record<string, unknown>[];
  files: Record<string, unknown>[];
}

let cursorSeq = 0;

/** Looks things up once per export, not once per item. */
class Lookups {
  private readonly trx: Knex.Transaction;
  readonly users = new Map<string, Person>();
  readonly channels = new Map<string, { id: string; name: string; displayName: string; type: string; teamId: string }>();
  readonly teams = new Map<string, { id: string; name: string; displayName: string }>();
  private readonly history = new Map<string, { user_id: string; join_time: number; leave_time: number | null }[]>();

  constructor(trx: Knex.Transaction) {
    this.trx = trx;
  }

  async loadUsers(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.users.has(id));
    if (!missing.length) return;
    for (const u of (await this.trx('users').whereIn('id', missing).select('id', 'username', 'email')) as Person[]) this.users.set(u.id, u);
    for (const id of missing) if (!this.users.has(id)) this.users.set(id, { id, username: id, email: '' });
  }

  async loadChannels(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.channels.has(id));
    if (!missing.length) return;
    const rows = (await this.trx('channels').whereIn('id', missing).select('id', 'name', 'display_name', 'type', 'team_id')) as { id: string; name: string; display_name: string; type: string; team_id: string }[];
    for (const c of rows) this.channels.set(c.id, { id: c.id, name: c.name, displayName: c.display_name, type: c.type, teamId: c.team_id });
    for (const id of missing) if (!this.channels.has(id)) this.channels.set(id, { id, name: id, displayName: '', type: '', teamId: '' });
    const teamIds = rows.map((c) => c.team_id).filter((t) => t && !this.teams.has(t));
    if (teamIds.length) {
      for (const t of (await this.trx('teams').whereIn('id', teamIds).select('id', 'name', 'display_name')) as { id: string; name: string; display_name: string }[]) {
        this.teams.set(t.id, { id: t.id, name: t.name, displayName: t.display_name });
      }
    }
    for (const c of rows) {
      this.history.set(c.id, (await this.trx('channel_member_history').where({ channel_id: c.id }).select('user_id', 'join_time', 'leave_time')).map((h) => ({ user_id: h.user_id, join_time: Number(h.join_time), leave_time: h.leave_time === null ? null : Number(h.leave_time) })));
    }
  }

  /** Who was in the channel at `at` (by membership history), the sender included. */
  async participants(channelId: string, at: number, senderId: string): Promise<Person[]> {
    const ids = new Set((this.history.get(channelId) ?? []).filter((h) => h.join_time <= at && (h.leave_time === null || h.leave_time >= at)).map((h) => h.user_id));
    ids.add(senderId);
    await this.loadUsers(ids);
    return [...ids].map((id) => this.users.get(id)!).sort((a, b) => a.username.localeCompare(b.username));
  }
}

/**
 * Streams the items of an export inside `trx` (give it a REPEATABLE READ transaction: one snapshot).
 * `custodianIds` are the custodians the search or hold names; an item's custodians are those among
 * its sender and participants (the sender when none are named). `onPost` gets each post's native
 * record once, before its items.
 */
export async function* exportItems(
  trx: Knex.Transaction,
  search: ResolvedSearch,
  options: { docIdPrefix: string; custodianIds: string[]; onPost: (native: NativePost) => Promise<void> },
): AsyncGenerator<ExportItem> {
  const hits = hitsSql(search);
  const name = `ediscovery_export_${++cursorSeq}`;
  await trx.raw(`DECLARE ${name} NO SCROLL CURSOR FOR SELECT * FROM (${hits.sql}) x ORDER BY create_at, post_id, (version_id = 0), version_id`, hits.bindings);
  const lookups = new Lookups(trx);
  const custodians = new Set(options.custodianIds);
  await lookups.loadUsers(custodians);
  let postNumber = 0;
  let currentPost = '';
  let versionNumber = 0;
  try {
    for (;;) {
      const rows = (await trx.raw(`FETCH ${FETCH_ROWS} FROM ${name}`)).rows as HitRow[];
      if (rows.length === 0) break;
      await lookups.loadUsers(rows.map((r) => r.user_id));
      await lookups.loadChannels(rows.map((r) => r.channel_id));
      const postIds = [...new Set(rows.map((r) => r.post_id))];
      const fileIds = [...new Set(rows.flatMap((r) => (Array.isArray(r.file_ids) ? r.file_ids : [])))];
      const files = new Map(
        (fileIds.length ? ((await trx('file_infos').whereIn('id', fileIds).select('id', 'post_id', 'name', 'mime_type', 'size', 'sha256', 'path', 'delete_at', 'create_at', 'creator_id')) as (ItemFile & Record<string, unknown>)[]) : []).map((f) => [f.id, f]),
      );
      const natives = await nativeRecords(trx, postIds);
      for (const row of rows) {
        if (row.post_id !== currentPost) {
          currentPost = row.post_id;
          postNumber++;
          versionNumber = 0;
          await options.onPost(natives.get(row.post_id)!);
        }
        const prior = Number(row.version_id) > 0;
        const base = `${options.docIdPrefix}${String(postNumber).padStart(7, '0')}`;
        const docId = prior ? `${base}.${String(++versionNumber).padStart(3, '0')}` : base;
        const channel = lookups.channels.get(row.channel_id)!;
        const team = channel.teamId ? lookups.teams.get(channel.teamId) : undefined;
        const sentAt = Number(row.create_at);
        const sender = lookups.users.get(row.user_id)!;
        const participants = await lookups.participants(row.channel_id, sentAt, row.user_id);
        const reached = participants.filter((p) => custodians.has(p.id)).map((p) => p.username);
        yield {
          docId, parentDocId: prior ? base : '', itemType: prior ? 'prior_version' : 'message',
          state: prior ? 'prior_version' : Number(row.delete_at) > 0 ? 'deleted' : Number(row.edit_at) > 0 ? 'edited' : 'original',
          postId: row.post_id, versionId: Number(row.version_id), rootId: row.root_id, message: row.message, sentAt,
          versionAt: Number(row.version_at), replacedAt: Number(row.replaced_at), deletedAt: prior ? 0 : Number(row.delete_at),
          sender, participants, custodians: custodians.size ? reached : [sender.username],
          channel: { id: channel.id, name: channel.name, displayName: channel.displayName, type: channel.type },
          team: team ? { ...team } : undefined,
          files: (Array.isArray(row.file_ids) ? row.file_ids : []).map((id) => files.get(id)).filter((f): f is ItemFile & Record<string, unknown> => Boolean(f)),
        };
      }
    }
  } finally {
    await trx.raw(`CLOSE ${name}`).catch(() => undefined);
  }
}

/** The native records of these posts: every column, every version (edits, deletes, pins), every reaction (removed ones too). */
async function nativeRecords(trx: Knex.Transaction, postIds: string[]): Promise<Map<string, NativePost>> {
  const posts = (await trx('posts').whereIn('id', postIds).select('id', 'create_at', 'update_at', 'edit_at', 'delete_at', 'is_pinned', 'user_id', 'channel_id', 'root_id', 'original_id', 'message', 'type', 'props', 'hashtags', 'file_ids')) as Record<string, unknown>[];
  const versions = (await trx('post_versions').whereIn('post_id', postIds).orderBy('id').select('id', 'post_id', 'reason', 'message', 'props', 'file_ids', 'is_pinned', 'version_create_at', 'replaced_at', 'replaced_by')) as Record<string, unknown>[];
  const reactions = (await trx('reactions').whereIn('post_id', postIds).orderBy('create_at').select('post_id', 'user_id', 'emoji_name', 'create_at', 'update_at', 'delete_at')) as Record<string, unknown>[];
  // The storage key (path) stays inside the server; the hash identifies the content.
  const files = (await trx('file_infos').whereIn('post_id', postIds).orderBy('create_at').select('id', 'post_id', 'creator_id', 'name', 'extension', 'mime_type', 'size', 'sha256', 'create_at', 'update_at', 'delete_at')) as Record<string, unknown>[];
  const out = new Map<string, NativePost>();
  for (const p of posts) {
    out.set(p.id as string, {
      post: p,
      versions: versions.filter((v) => v.post_id === p.id),
      reactions: reactions.filter((r) => r.post_id === p.id),
      files: files.filter((f) => f.post_id === p.id),
    });
  }
  return out;
}
