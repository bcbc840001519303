import type { Knex } from 'knex';
import type { BatchSource } from '../source.ts';
import { attachedCte, messageRecordsCte } from './records-sql.ts';
import { xmlElementSql, xmlSql } from './sql-text.ts';

const i = '      ';

/** A Message element from the columns of `msg`: its children in the reference order, empty ones omitted. */
const messageSql = `'    <Message>
' || ${xmlElementSql(i, 'MessageId', 'm.mid')} || COALESCE(u.login_el, '') || '${i}<UserType>' || COALESCE(u.user_type, 'user') || '</UserType>
${i}<DateTimeUTC>' || m.create_at || '</DateTimeUTC>
' || CASE WHEN m.update_type = '' THEN '' ELSE '${i}<UpdatedType>' || m.update_type || '</UpdatedType>
${i}<UpdatedDateTimeUTC>' || m.updated || '</UpdatedDateTimeUTC>
' END || ${xmlElementSql(i, 'EditedNewMsgId', 'm.edited_new')} || '${i}<Content>' || ${xmlSql('m.message')} || '</Content>
' || ${xmlElementSql(i, 'PreviewsPost', 'm.previews')} || '    </Message>
'`;

const transferSql = (tag: string) => `'    <${tag}>
' || COALESCE(u.login_el, '') || '${i}<DateTimeUTC>' || t.create_at || '</DateTimeUTC>
' || ${xmlElementSql(i, 'UserFileName', 't.name')} || '${i}<FileName>' || ${xmlSql('t.zip_path')} || '</FileName>
' || ${tag === 'FileTransferEnded' ? `'${i}<Status>Completed</Status>\n' || ` : ''}'    </${tag}>
'`;

const presenceSql = (tag: string) => `'    <${tag}>
${i}<LoginName>' || COALESCE(u.email_x, '') || '</LoginName>
${i}<UserType>' || COALESCE(u.user_type, 'user') || '</UserType>
${i}<DateTimeUTC>' || pr.time || '</DateTimeUTC>
${i}<CorporateEmailID>' || COALESCE(u.email_x, '') || '</CorporateEmailID>
    </${tag}>
'`;

/**
 * The batch's Actiance document body, rendered by PostgreSQL in document order, one element per row
 * (kind, text; sql-document.ts), with no row object per message in the exporter, which only copies
 * the bytes into the zip. Sort keys: channel (creation, id), section (header, entered, messages,
 * transfers started, ended, left, end), then each section's own order. Participants sort by time,
 * then email by code point (the golden files were written by a JavaScript sort), then as membership
 * history lists them.
 */
export function actianceDocumentSql(source: BatchSource): [string, Knex.RawBinding[]] {
  const [ctes, bindings] = source.rangeCtes();
  const { startTime: s, endTime: e } = source.range;
  const sql = `WITH ${ctes}, ${source.participantCtes()},
    ch AS MATERIALIZED (
      SELECT a.channel_id AS id, COALESCE(c.name, '') AS name, COALESCE(c.display_name, '') AS display_name,
             CASE c.type WHEN 'P' THEN 'private' WHEN 'D' THEN 'direct' WHEN 'G' THEN 'group' ELSE 'public' END AS type_name,
             COALESCE(c.create_at, 0) AS create_at, GREATEST(${s}, COALESCE(c.create_at, 0)) AS start_time,
             CASE WHEN COALESCE(c.delete_at, 0) > 0 THEN GREATEST(${s}, COALESCE(c.create_at, 0), LEAST(${e}, c.delete_at)) ELSE ${e} END AS end_time
      FROM active a LEFT JOIN channels c ON c.id = a.channel_id),
    u AS MATERIALIZED (
      SELECT id, COALESCE(email, '') AS email, ${xmlSql("COALESCE(email, '')")} AS email_x, ${xmlElementSql(i, 'LoginName', 'email')} AS login_el,
             CASE WHEN is_bot THEN 'bot' ELSE 'user' END AS user_type
      FROM users WHERE id IN (SELECT user_id FROM participants)),
    ${messageRecordsCte(source)},
    ${attachedCte},
    presence AS (
      SELECT m.channel_id, m.user_id, m.join_time,
             GREATEST(COALESCE(m.join_time, ch.start_time), ch.start_time) AS entered,
             CASE WHEN m.leave_time IS NOT NULL AND m.leave_time <= ch.end_time THEN m.leave_time ELSE ch.end_time END AS left_at
      FROM participants m JOIN ch ON ch.id = m.channel_id),
    doc AS (
      SELECT 'h' AS kind, '  <Conversation Perspective="' || ${xmlSql("COALESCE(NULLIF(ch.display_name, ''), ch.name)")} || '">
    <RoomID>' || ${xmlSql("ch.type_name || ' - ' || ch.name || ' - ' || ch.id")} || '</RoomID>
    <StartTimeUTC>' || ch.start_time || '</StartTimeUTC>
' AS body, ch.id AS channel_id, 0 AS section, 0::bigint AS n1, ''::text AS s1, 0::bigint AS n2, 0 AS n3, 0::bigint AS n4, 0 AS n5, 0::bigint AS n6, ''::text AS s2, 0 AS n7
      FROM ch
      UNION ALL
      SELECT 'x', ${presenceSql('ParticipantEntered')}, pr.channel_id, 1, pr.time, COALESCE(u.email, ''), COALESCE(pr.join_time, -1), 0, 0, 0, 0, pr.user_id, 0
      FROM (SELECT channel_id, user_id, join_time, entered AS time FROM presence) pr LEFT JOIN u ON u.id = pr.user_id
      UNION ALL
      SELECT m.kind, ${messageSql}, m.channel_id, 2, m.create_at, m.post_id, m.key_t, m.rank, m.version_id, m.sub, m.file_time, m.file_id, 0
      FROM msg m LEFT JOIN u ON u.id = m.user_id
      UNION ALL
      SELECT 'x', ${transferSql('FileTransferStarted')}, t.channel_id, 3, t.create_at, t.post_id, t.key_t, 0, 0, 0, t.file_time, t.file_id, 0
      FROM attached t LEFT JOIN u ON u.id = t.user_id
      UNION ALL
      SELECT 'a', t.attachment, t.channel_id, 3, t.create_at, t.post_id, t.key_t, 0, 0, 0, t.file_time, t.file_id, 1
      FROM attached t
      UNION ALL
      SELECT 'x', ${transferSql('FileTransferEnded')}, t.channel_id, 4, t.create_at, t.post_id, t.key_t, 0, 0, 0, t.file_time, t.file_id, 0
      FROM attached t LEFT JOIN u ON u.id = t.user_id
      UNION ALL
      SELECT 'x', ${presenceSql('ParticipantLeft')}, pr.channel_id, 5, pr.time, COALESCE(u.email, ''), COALESCE(pr.join_time, -1), 0, 0, 0, 0, pr.user_id, 0
      FROM (SELECT channel_id, user_id, join_time, left_at AS time FROM presence) pr LEFT JOIN u ON u.id = pr.user_id
      UNION ALL
      SELECT 'x', '    <EndTimeUTC>' || ch.end_time || '</EndTimeUTC>
  </Conversation>
', ch.id, 6, 0, '', 0, 0, 0, 0, 0, '', 0
      FROM ch)
    SELECT d.kind, d.body FROM doc d JOIN ch ON ch.id = d.channel_id
    ORDER BY ch.create_at, d.channel_id, d.section, d.n1, d.s1 COLLATE "C", d.n2, d.n3, d.n4, d.n5, d.n6, d.s2 COLLATE "C", d.n7`;
  return [sql, bindings];
}
