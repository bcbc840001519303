import type { Knex } from 'knex';
import { copyRows, type CopyChunk } from './copy-rows.ts';
import {
  versionMessageId,
  type BatchRange,
  type ExportChannel,
  type ExportCursor,
  type ExportFile,
  type ExportMessage,
  type ExportReaction,
  type ExportUser,
  type MemberEvent,
  type Participant,
  type UpdateType,
} from './records.ts';

/**
 * Rows fetched per round trip from a server-side cursor: memory stays bounded whatever the batch
 * holds. Channel rows carry their participants, so they come fewer at a time.
 */
const FETCH_ROWS = 1000;
const FETCH_CHANNELS = 50;

type Sql = [string, Knex.RawBinding[]];

/** `key > cursor` over (time, id) columns; a null post id means the whole millisecond is behind us. */
function keyAfter(time: string, id: string, c: ExportCursor): Sql {
  return c.postId === null ? [`${time} > ?`, [c.updateAt]] : [`(${time}, ${id}) > (?, ?)`, [c.updateAt, c.postId]];
}

function keyAtMost(time: string, id: string, c: ExportCursor): Sql {
  return c.postId === null ? [`${time} <= ?`, [c.updateAt]] : [`(${time}, ${id}) <= (?, ?)`, [c.updateAt, c.postId]];
}

function inRange(time: string, id: string, range: { from: ExportCursor; to: ExportCursor }): Sql {
  const [a, ab] = keyAfter(time, id, range.from);
  const [b, bb] = keyAtMost(time, id, range.to);
  // The row comparisons compare the varchar id as text, which no index matches: the plain time bounds
  // they imply let the (time, id) index find the batch instead of scanning the table three times.
  return [`${time} >= ? AND ${time} <= ? AND ${a} AND ${b}`, [range.from.updateAt, range.to.updateAt, ...ab, ...bb]];
}

/**
 * Where the next batch ends: after `batchSize` post updates past `from`, or at the job's end time
 * (`postId: null`) when fewer remain. Keyset on (update_at, id), never OFFSET.
 */
export async function nextBoundary(trx: Knex | Knex.Transaction, from: ExportCursor, endTime: number, batchSize: number): Promise<{ to: ExportCursor; posts: number }> {
  const [after, bindings] = keyAfter('update_at', 'id', from);
  const result = await trx.raw(
    `SELECT update_at, id, count(*) OVER () AS n FROM
       (SELECT update_at, id FROM posts WHERE ${after} AND update_at <= ? ORDER BY update_at, id LIMIT ?) s
     ORDER BY update_at DESC, id DESC LIMIT 1`,
    [...bindings, endTime, batchSize],
  );
  const last = result.rows[0] as { update_at: number; id: string; n: string } | undefined;
  const posts = last ? Number(last.n) : 0;
  if (!last || posts < batchSize) return { to: { updateAt: endTime, postId: null }, posts };
  return { to: { updateAt: Number(last.update_at), postId: last.id }, posts };
}

/** Post updates between `from` (exclusive) and the end time: the job's total, for progress. */
export async function countUpdates(db: Knex | Knex.Transaction, from: ExportCursor, endTime: number): Promise<number> {
  const [after, bindings] = keyAfter('update_at', 'id', from);
  return Number((await db.raw(`SELECT count(*) AS n FROM posts WHERE ${after} AND update_at <= ?`, [...bindings, endTime])).rows[0].n);
}

let cursorSeq = 0;

/** Streams a query through a server-side cursor in the surrounding transaction, one fetch of rows at a time. */
async function* streamChunks(trx: Knex.Transaction, sql: string, bindings: Knex.RawBinding[], fetchRows = FETCH_ROWS): AsyncGenerator<Record<string, unknown>[]> {
  const name = `export_cursor_${++cursorSeq}`;
  await trx.raw(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, bindings);
  // Promise.resolve runs the query exactly once: a knex query runs again every time it is awaited.
  const fetch = (): Promise<{ rows: Record<string, unknown>[] }> => Promise.resolve(trx.raw(`FETCH ${fetchRows} FROM ${name}`));
  let pending: Promise<{ rows: Record<string, unknown>[] }> | undefined = fetch();
  try {
    while (pending) {
      const { rows }: { rows: Record<string, unknown>[] } = await pending;
      // Ask for the next rows before handing these out, so PostgreSQL works while they are written.
      pending = rows.length < fetchRows ? undefined : fetch();
      pending?.catch(() => undefined);
      if (rows.length) yield rows;
    }
  } finally {
    await pending?.catch(() => undefined);
    await trx.raw(`CLOSE ${name}`).catch(() => undefined);
  }
}

async function* streamRows(trx: Knex.Transaction, sql: string, bindings: Knex.RawBinding[], fetchRows = FETCH_ROWS): AsyncGenerator<Record<string, unknown>> {
  for await (const rows of streamChunks(trx, sql, bindings, fetchRows)) yield* rows;
}

const US = '\x1f';
const RS = '\x1e';

function userOf(row: Record<string, unknown>, prefix = ''): ExportUser {
  return {
    id: String(row[`${prefix}user_id`] ?? ''),
    username: String(row[`${prefix}username`] ?? ''),
    email: String(row[`${prefix}email`] ?? ''),
    isBot: row[`${prefix}is_bot`] === true,
  };
}

export interface MessageOptions {
  /** Each post's reactions (JSONL). */
  reactions?: boolean;
  /** Each post's props, whole (JSONL); other formats get `{}`. */
  props?: boolean;
}

/** Message ordering each format wants: grouped by channel, or by export key. */
export type MessageOrder = 'channel' | 'key';

const messageOrders: Record<MessageOrder, string> = {
  channel: 'channel_create_at, channel_id, create_at, post_id, key_t, source DESC, version_id',
  key: 'key_t, key_id, source DESC, version_id',
};

/**
 * Reads one batch inside a REPEATABLE READ transaction (one snapshot for every query): the channels
 * it touches with their participants, the messages (post rows whose (update_at, id) key is in range,
 * plus the versions edits replaced in range), and the joins and leaves in its time range.
 */
export class BatchSource {
  readonly range: BatchRange;
  private readonly trx: Knex.Transaction;
  private readonly turn: Promise<void>;

  /** `turn`: COPY results are read once it settles (the query is sent at once, so PostgreSQL renders meanwhile). */
  constructor(trx: Knex.Transaction, range: BatchRange, turn: Promise<void> = Promise.resolve()) {
    this.trx = trx;
    this.range = range;
    this.turn = turn;
  }

  /** Posts and edit versions in range, as CTEs `rp` and `rv` (shared by the channel and message queries, and SQL-rendered formats). */
  rangeCtes(): Sql {
    const [postRange, pb] = inRange('p.update_at', 'p.id', this.range);
    const [versionRange, vb] = inRange('v.replaced_at', 'v.post_id', this.range);
    return [
      // Named columns, never p.* or v.*: the search_vector column is virtual, and reading it would run
      // to_tsvector over every exported message.
      `rp AS (SELECT p.id, p.create_at, p.update_at, p.edit_at, p.delete_at, p.user_id, p.channel_id, p.root_id, p.message, p.type, p.props,
                     p.hashtags, p.file_ids
              FROM posts p WHERE ${postRange}),
       rv AS (SELECT v.id, v.post_id, v.message, v.props, v.version_create_at, v.replaced_at, p.channel_id, p.user_id, p.create_at, p.root_id, p.type
              FROM post_versions v JOIN posts p ON p.id = v.post_id
              WHERE v.reason = 'edit' AND ${versionRange}
                AND v.message IS DISTINCT FROM COALESCE((SELECT n.message FROM post_versions n WHERE n.post_id = v.post_id AND n.id > v.id ORDER BY n.id LIMIT 1), p.message))`,
      [...pb, ...vb],
    ];
  }

  /**
   * After `rangeCtes`: `active`, the channels with activity in the batch (posts, versions, joins,
   * leaves), and `participants` (channel_id, user_id, join_time, leave_time): everyone present during
   * the batch, from membership history, plus authors in range it does not list (null times).
   */
  participantCtes(): string {
    const s = this.range.startTime;
    const e = this.range.endTime;
    return `active AS (SELECT channel_id FROM rp UNION SELECT channel_id FROM rv
                 UNION SELECT channel_id FROM channel_member_history WHERE join_time > ${s} AND join_time <= ${e}
                 UNION SELECT channel_id FROM channel_member_history WHERE leave_time > ${s} AND leave_time <= ${e}),
      present AS (SELECT h.channel_id, h.user_id, h.join_time, h.leave_time FROM channel_member_history h JOIN active a ON a.channel_id = h.channel_id
                  WHERE h.join_time <= ${e} AND (h.leave_time IS NULL OR h.leave_time > ${s})),
      authors AS (SELECT channel_id, user_id FROM rp UNION SELECT channel_id, user_id FROM rv),
      extra AS (SELECT au.channel_id, au.user_id, NULL::bigint AS join_time, NULL::bigint AS leave_time FROM authors au
                WHERE NOT EXISTS (SELECT 1 FROM present pr WHERE pr.channel_id = au.channel_id AND pr.user_id = au.user_id)),
      participants AS (SELECT * FROM present UNION ALL SELECT * FROM extra)`;
  }

  /** Streams a query's rows (`width` columns) as raw field bytes through COPY, in this batch's snapshot (see copy-rows.ts). */
  copy(sql: string, bindings: readonly Knex.RawBinding[], width: number): AsyncGenerator<CopyChunk> {
    return copyRows(this.trx, sql, bindings, width, this.turn);
  }

  /** The channels with activity in the batch, by creation then id. */
  async *channels(options: { participants?: boolean } = {}): AsyncGenerator<ExportChannel> {
    const withParticipants = options.participants !== false;
    const [ctes, bindings] = this.rangeCtes();
    const sql = `WITH ${ctes}, ${this.participantCtes()},
      members AS (SELECT m.channel_id,
                    string_agg(concat_ws(E'${US}', m.user_id, COALESCE(m.join_time::text, ''), COALESCE(m.leave_time::text, ''),
                      CASE WHEN u.is_bot THEN '1' ELSE '0' END, COALESCE(u.email, ''), COALESCE(u.username, '')), E'${RS}' ORDER BY m.join_time NULLS FIRST, u.email, m.user_id) AS members
                  FROM participants m LEFT JOIN users u ON u.id = m.user_id GROUP BY m.channel_id),
      counts AS (SELECT channel_id, string_agg(user_id || ':' || n, ',') AS counts FROM (SELECT channel_id, user_id, count(*) AS n FROM rp GROUP BY 1, 2) x GROUP BY channel_id)
      SELECT a.channel_id AS id, c.name, c.display_name, c.type, c.team_id, c.create_at, c.delete_at,
             t.name AS team_name, t.display_name AS team_display_name, m.members, k.counts
      FROM active a LEFT JOIN channels c ON c.id = a.channel_id LEFT JOIN teams t ON t.id = c.team_id
      LEFT JOIN ${withParticipants ? 'members' : '(SELECT NULL::text AS channel_id, NULL::text AS members WHERE false)'} m ON m.channel_id = a.channel_id
      LEFT JOIN counts k ON k.channel_id = a.channel_id
      ORDER BY COALESCE(c.create_at, 0), a.channel_id`;
    for await (const row of streamRows(this.trx, sql, bindings, FETCH_CHANNELS)) yield this.toChannel(row);
  }

  private toChannel(row: Record<string, unknown>): ExportChannel {
    const createAt = Number(row.create_at ?? 0);
    const deleteAt = Number(row.delete_at ?? 0);
    const startTime = Math.max(this.range.startTime, createAt);
    const endTime = deleteAt > 0 ? Math.max(startTime, Math.min(this.range.endTime, deleteAt)) : this.range.endTime;
    const participants: Participant[] = [];
    for (const entry of String(row.members ?? '').split(RS)) {
      if (entry === '') continue;
      const [id, join, leave, bot, email, username] = entry.split(US);
      participants.push({
        user: { id, email, username, isBot: bot === '1' },
        joinTime: join === '' ? startTime : Number(join),
        leaveTime: leave === '' ? undefined : Number(leave),
      });
    }
    const messageCounts = new Map<string, number>();
    for (const entry of String(row.counts ?? '').split(',')) {
      const colon = entry.lastIndexOf(':');
      if (colon > 0) messageCounts.set(entry.slice(0, colon), Number(entry.slice(colon + 1)));
    }
    return {
      id: String(row.id), name: String(row.name ?? ''), displayName: String(row.display_name ?? ''), type: String(row.type ?? 'O'),
      teamId: String(row.team_id ?? ''), teamName: String(row.team_name ?? ''), teamDisplayName: String(row.team_display_name ?? ''),
      createAt, deleteAt, startTime, endTime, participants, messageCounts,
    };
  }

  /**
   * The batch's messages. Besides one record per post row and per replaced version, a deleted post
   * that is new to the archive (created after the job's start) also yields its creation, and a file
   * deleted in range from a live post yields a FileDeleted record.
   */
  async *messages(order: MessageOrder, options: MessageOptions = {}): AsyncGenerator<ExportMessage> {
    for await (const chunk of this.messageChunks(order, options)) yield* chunk;
  }

  /** The same messages, as arrays of one fetch each (cheaper to merge). */
  async *messageChunks(order: MessageOrder, options: MessageOptions = {}): AsyncGenerator<ExportMessage[]> {
    const [ctes, bindings] = this.rangeCtes();
    const reactions = options.reactions
      ? `(SELECT json_agg(json_build_object('user_id', r.user_id, 'emoji_name', r.emoji_name, 'create_at', r.create_at, 'delete_at', r.delete_at) ORDER BY r.create_at, r.user_id, r.emoji_name) FROM reactions r WHERE r.post_id = p.id)`
      : 'NULL::json';
    const userCols = 'u.username, u.email, u.is_bot';
    // Props are parsed only for the formats that carry them whole (JSONL); the rest need one of them.
    const props = (alias: string) => (options.props ? `${alias}.props` : 'NULL::jsonb AS props');
    const previewed = (alias: string) => `CASE WHEN jsonb_typeof(${alias}.props->'previewed_post') = 'string' THEN ${alias}.props->>'previewed_post' END`;
    const sql = `WITH ${ctes}
      SELECT 'post' AS source, p.id AS post_id, 0::bigint AS version_id, p.create_at, p.update_at, p.edit_at, p.delete_at, p.user_id, p.channel_id,
             p.root_id, p.message, p.type, ${props('p')}, ${previewed('p')} AS previewed_post, p.hashtags, ${userCols},
             CASE WHEN p.file_ids <> '[]'::jsonb THEN (SELECT json_agg(json_build_object('id', f.id, 'name', f.name, 'path', f.path, 'size', f.size,
               'mime_type', f.mime_type, 'sha256', f.sha256, 'create_at', f.create_at, 'delete_at', f.delete_at) ORDER BY f.create_at, f.id)
               FROM file_infos f WHERE f.post_id = p.id) END AS files,
             ${reactions} AS reactions, p.update_at AS key_t, p.id AS key_id, COALESCE(c.create_at, 0) AS channel_create_at
      FROM rp p LEFT JOIN users u ON u.id = p.user_id LEFT JOIN channels c ON c.id = p.channel_id
      UNION ALL
      SELECT 'version', v.post_id, v.id, v.create_at, v.replaced_at, v.version_create_at, 0, v.user_id, v.channel_id,
             v.root_id, v.message, v.type, ${props('v')}, ${previewed('v')}, '', ${userCols}, NULL::json, NULL::json, v.replaced_at, v.post_id, COALESCE(c.create_at, 0)
      FROM rv v LEFT JOIN users u ON u.id = v.user_id LEFT JOIN channels c ON c.id = v.channel_id
      ORDER BY ${messageOrders[order]}`;
    for await (const rows of streamChunks(this.trx, sql, bindings)) {
      const chunk: ExportMessage[] = [];
      for (const row of rows) for (const message of this.toMessages(row)) chunk.push(message);
      yield chunk;
    }
  }

  private *toMessages(row: Record<string, unknown>): Generator<ExportMessage> {
    const postId = String(row.post_id);
    const createAt = Number(row.create_at);
    const updateAt = Number(row.update_at);
    const editAt = Number(row.edit_at);
    const deleteAt = Number(row.delete_at);
    const props = (row.props ?? {}) as Record<string, unknown>;
    const files: ExportFile[] = ((row.files ?? []) as Record<string, unknown>[]).map((f) => ({
      id: String(f.id), name: String(f.name), path: String(f.path), size: Number(f.size), mimeType: String(f.mime_type),
      sha256: String(f.sha256), createAt: Number(f.create_at), deleteAt: Number(f.delete_at),
    }));
    const reactions: ExportReaction[] = ((row.reactions ?? []) as Record<string, unknown>[]).map((r) => ({
      userId: String(r.user_id), emojiName: String(r.emoji_name), createAt: Number(r.create_at), deleteAt: Number(r.delete_at),
    }));
    const base: ExportMessage = {
      id: postId, postId, source: 'post', updateType: '', channelId: String(row.channel_id), user: userOf(row), createAt, updateAt, editAt, deleteAt,
      rootId: String(row.root_id ?? ''), editedNewMsgId: '', message: String(row.message ?? ''), postType: String(row.type ?? ''), props,
      hashtags: String(row.hashtags ?? ''), files, reactions, previewsPost: typeof row.previewed_post === 'string' ? row.previewed_post : '',
      key: { updateAt: Number(row.key_t), postId: String(row.key_id) },
    };
    if (row.source === 'version') {
      yield { ...base, id: versionMessageId(postId, Number(row.version_id)), source: 'version', updateType: 'EditedOriginalMsg', editedNewMsgId: postId, files: [], reactions: [] };
      return;
    }
    let updateType: UpdateType = '';
    if (deleteAt > 0) {
      // Created and deleted since the last export: the archive has never seen it, so record it as sent too.
      if (createAt > this.range.jobStartTime) yield { ...base, source: 'created', updateAt: createAt, deleteAt: 0 };
      updateType = 'Deleted';
    } else if (updateAt > createAt) {
      updateType = editAt > 0 && editAt > this.range.from.updateAt ? 'EditedNewMsg' : 'UpdatedNoMsgChange';
    }
    yield { ...base, updateType };
    if (deleteAt === 0) {
      for (const file of files) {
        if (file.deleteAt > 0 && file.deleteAt > this.range.from.updateAt && file.deleteAt <= this.range.endTime) {
          yield { ...base, source: 'file', updateType: 'FileDeleted', updateAt: file.deleteAt, message: `delete ${file.name}`, files: [file], reactions: [] };
        }
      }
    }
  }

  /** How many joins and leaves are inside the batch's time range. */
  async memberEventCounts(): Promise<{ joins: number; leaves: number }> {
    const s = this.range.startTime;
    const e = this.range.endTime;
    const { rows } = await this.trx.raw(`SELECT (SELECT count(*) FROM channel_member_history WHERE join_time > ${s} AND join_time <= ${e}) AS joins,
      (SELECT count(*) FROM channel_member_history WHERE leave_time > ${s} AND leave_time <= ${e}) AS leaves`);
    return { joins: Number(rows[0].joins), leaves: Number(rows[0].leaves) };
  }

  /** Joins and leaves inside the batch's time range, in time order. */
  async *memberEvents(): AsyncGenerator<MemberEvent> {
    const s = this.range.startTime;
    const e = this.range.endTime;
    const sql = `SELECT ev.kind, ev.channel_id, ev.user_id, ev.time, u.username, u.email, u.is_bot FROM (
        SELECT 'join' AS kind, channel_id, user_id, join_time AS time FROM channel_member_history WHERE join_time > ${s} AND join_time <= ${e}
        UNION ALL
        SELECT 'leave', channel_id, user_id, leave_time FROM channel_member_history WHERE leave_time > ${s} AND leave_time <= ${e}) ev
      LEFT JOIN users u ON u.id = ev.user_id ORDER BY ev.time, ev.kind, ev.channel_id, ev.user_id`;
    for await (const row of streamRows(this.trx, sql, [])) {
      yield { kind: row.kind as 'join' | 'leave', channelId: String(row.channel_id), user: userOf(row), time: Number(row.time) };
    }
  }
}
