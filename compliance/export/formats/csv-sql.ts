import type { Knex } from 'knex';
import type { BatchSource } from '../source.ts';
import { attachedCte, messageRecordsCte } from './records-sql.ts';
import { csvCellsSql, csvSql } from './sql-text.ts';

const CRLF = `E'\\r\\n'`;

/** Post Creation Time … Post Update Type (the first three cells, without the trailing comma). */
const updateCells = `m.create_at || ',' || CASE WHEN m.update_type = '' THEN '' ELSE m.updated::text END || ',' || m.update_type`;
/** User Id, User Email, Username of `uc` (a user without a row keeps its id and empty cells). */
const userCells = (userId: string) => `COALESCE(uc.cells, ${csvSql(`COALESCE(${userId}, '')`)} || ',,')`;
/** A row about a user and a channel with no post (already in, joined, left): its time and text. */
const memberRow = (time: string, userId: string, text: string, type: string) =>
  `${time} || ',,,' || ch.cells || ',' || ${userCells(userId)} || ',,,,' || ${csvSql(text)} || ',' || ${type} || ',' || COALESCE(uc.user_type, 'user') || ',' || ${CRLF}`;
/** A row of a message record, with its own Post Message and Post Type cells. */
const messageRow = (message: string, type: string) =>
  `${updateCells} || ',' || ch.cells || ',' || ${userCells('m.user_id')} || ',' || ${csvCellsSql(['m.mid', 'm.edited_new', "COALESCE(m.root_id, '')"])} || ',' ||
   ${csvSql(message)} || ',' || ${csvSql(type)} || ',' || COALESCE(uc.user_type, 'user') || ',' ||
   ${csvSql("COALESCE(m.previews, '')")} || ${CRLF}`;
/** "User <username> (<email>) <what>" (`what` is SQL). */
const named = (what: string) => `'User ' || COALESCE(uc.username, '') || ' (' || COALESCE(uc.email, '') || ') ' || ${what}`;

/**
 * The batch's posts.csv rows after the header, rendered by PostgreSQL (rows of kind and text;
 * sql-document.ts). Three streams, each in time order, merged by one sort: who was already in each
 * channel when the batch's share of it starts, the message records with their attachment rows, and
 * the joins and leaves; at equal times in that order, as the reference merge takes them.
 */
export function csvDocumentSql(source: BatchSource): [string, Knex.RawBinding[]] {
  const [ctes, bindings] = source.rangeCtes();
  const { startTime: s, endTime: e } = source.range;
  const sql = `WITH ${ctes}, ${source.participantCtes()},
    ch AS MATERIALIZED (
      SELECT a.channel_id AS id, GREATEST(${s}, COALESCE(c.create_at, 0)) AS start_time,
             ${csvSql("COALESCE(c.team_id, '')")} || ',' || ${csvSql("COALESCE(t.name, '')")} || ',' || ${csvSql("COALESCE(t.display_name, '')")} || ',' ||
             ${csvSql('a.channel_id')} || ',' || ${csvSql("COALESCE(c.name, '')")} || ',' || ${csvSql("COALESCE(c.display_name, '')")} || ',' ||
             CASE c.type WHEN 'P' THEN 'private' WHEN 'D' THEN 'direct' WHEN 'G' THEN 'group' ELSE 'public' END AS cells
      FROM active a LEFT JOIN channels c ON c.id = a.channel_id LEFT JOIN teams t ON t.id = c.team_id),
    uc AS MATERIALIZED (
      SELECT id, email, username, ${csvSql('id')} || ',' || ${csvSql("COALESCE(email, '')")} || ',' || ${csvSql("COALESCE(username, '')")} AS cells,
             CASE WHEN is_bot THEN 'bot' ELSE 'user' END AS user_type
      FROM users WHERE id IN (SELECT user_id FROM participants)),
    ${messageRecordsCte(source)},
    ${attachedCte},
    ev AS (SELECT 'join' AS kind, channel_id, user_id, join_time AS time FROM channel_member_history WHERE join_time > ${s} AND join_time <= ${e}
           UNION ALL
           SELECT 'leave', channel_id, user_id, leave_time FROM channel_member_history WHERE leave_time > ${s} AND leave_time <= ${e}),
    doc AS (
      SELECT 'x' AS kind, ${memberRow('ch.start_time', 'p.user_id', named("'was already in the channel'"), "'previously-joined'")} AS body,
             ch.start_time AS t, 0 AS stream, ch.id AS s1, COALESCE(p.join_time, -1) AS n1, uc.email AS s2, 0 AS n2, 0::bigint AS n3, 0 AS n4,
             0::bigint AS n5, p.user_id AS s3, 0 AS n6
      FROM participants p JOIN ch ON ch.id = p.channel_id LEFT JOIN uc ON uc.id = p.user_id
      WHERE COALESCE(p.join_time, ch.start_time) <= ch.start_time
      UNION ALL
      SELECT m.kind, ${messageRow("COALESCE(m.message, '')", "COALESCE(NULLIF(m.post_type, ''), 'message')")},
             m.create_at, 1, m.post_id, m.key_t, '', m.rank, m.version_id, m.sub, m.file_time, m.file_id, 0
      FROM msg m JOIN ch ON ch.id = m.channel_id LEFT JOIN uc ON uc.id = m.user_id
      UNION ALL
      SELECT 'x', ${messageRow("t.name || ' (' || t.zip_path || ')'", "'attachment'")},
             m.create_at, 1, m.post_id, m.key_t, '', m.rank, m.version_id, m.sub, t.file_time, t.file_id, 1
      FROM attached t JOIN msg m ON m.kind = 'p' AND m.post_id = t.post_id JOIN ch ON ch.id = m.channel_id LEFT JOIN uc ON uc.id = m.user_id
      UNION ALL
      SELECT 'a', t.attachment, m.create_at, 1, m.post_id, m.key_t, '', m.rank, m.version_id, m.sub, t.file_time, t.file_id, 2
      FROM attached t JOIN msg m ON m.kind = 'p' AND m.post_id = t.post_id
      UNION ALL
      SELECT 'x', ${messageRow("m.file_name || ' (files/' || m.post_id || '/' || m.file_id || ')'", "'deleted attachment'")},
             m.create_at, 1, m.post_id, m.key_t, '', m.rank, m.version_id, m.sub, m.file_time, m.file_id, 1
      FROM msg m JOIN ch ON ch.id = m.channel_id LEFT JOIN uc ON uc.id = m.user_id WHERE m.kind = 'm' AND m.sub = 2
      UNION ALL
      SELECT CASE ev.kind WHEN 'join' THEN 'j' ELSE 'l' END,
             ${memberRow('ev.time', 'ev.user_id', named("CASE ev.kind WHEN 'join' THEN 'joined the channel' ELSE 'left the channel' END"), "CASE ev.kind WHEN 'join' THEN 'enter' ELSE 'leave' END")},
             ev.time, 2, ev.kind, 0, ev.channel_id, 0, 0, 0, 0, ev.user_id, 0
      FROM ev JOIN ch ON ch.id = ev.channel_id LEFT JOIN uc ON uc.id = ev.user_id)
    SELECT kind, body FROM doc ORDER BY t, stream, s1, n1, s2, n2, n3, n4, n5, s3, n6`;
  return [sql, bindings];
}
