import type { Knex } from 'knex';
import type { BatchSource } from '../source.ts';
import { xmlElementSql, xmlSql } from './sql-text.ts';

/**
 * What a row of the rendered document is: `h` a Conversation's opening (one per channel), `p` the
 * Message of a post row, `v` of a replaced version, `m` another Message (a deleted post's creation, a
 * file deletion), `x` any other element, `a` an attachment to copy (JSON, not XML).
 */
export type ActianceRowKind = 'h' | 'p' | 'v' | 'm' | 'x' | 'a';

const i = '      ';
const previewed = (alias: string) => `CASE WHEN jsonb_typeof(${alias}.props->'previewed_post') = 'string' THEN ${alias}.props->>'previewed_post' END`;
const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';
/** versionMessageId (records.ts) in SQL. */
const versionIdSql = `(SELECT string_agg(substr('${alphabet}', (get_byte(d.h, n) & 31) + 1, 1), '' ORDER BY n)
  FROM (SELECT sha256(convert_to(v.post_id || ':' || v.id, 'UTF8')) AS h) d, generate_series(0, 25) n)`;
/** The attachment's name in the zip, as the runner's attach() builds it. */
const zipPathSql = `'files/' || p.id || '/' || f.id || '-' || COALESCE(NULLIF(left(regexp_replace(f.name, '[^A-Za-z0-9._-]+', '_', 'g'), 100), ''), 'file')`;

/** A Message element (messageXml of actiance.ts) from the columns of `msg`. */
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
 * (kind, text): the same conversations, elements and order as the format's reference writer, but
 * without a row object per message in this process, which only copies the bytes into the zip. Sort
 * keys: channel (creation, id), section (header, entered, messages, transfers started, ended, left,
 * end), then each section's own order; emails compare by code point, as the reference's sort does.
 */
export function actianceDocumentSql(source: BatchSource): [string, Knex.RawBinding[]] {
  const [ctes, bindings] = source.rangeCtes();
  const { startTime: s, endTime: e, jobStartTime: j, from } = source.range;
  const f = from.updateAt;
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
    msg AS (
      SELECT 'p' AS kind, p.channel_id, p.create_at, p.id AS post_id, p.update_at AS key_t, 1 AS rank, 0::bigint AS version_id, 1 AS sub,
             0::bigint AS file_time, ''::text AS file_id, p.id AS mid, p.user_id,
             CASE WHEN p.delete_at > 0 THEN 'Deleted' WHEN p.update_at > p.create_at THEN
               CASE WHEN p.edit_at > 0 AND p.edit_at > ${f} THEN 'EditedNewMsg' ELSE 'UpdatedNoMsgChange' END ELSE '' END AS update_type,
             p.update_at AS updated, '' AS edited_new, p.message, ${previewed('p')} AS previews
      FROM rp p
      UNION ALL
      SELECT 'm', p.channel_id, p.create_at, p.id, p.update_at, 1, 0, 0, 0, '', p.id, p.user_id, '', p.create_at, '', p.message, ${previewed('p')}
      FROM rp p WHERE p.delete_at > 0 AND p.create_at > ${j}
      UNION ALL
      SELECT 'v', v.channel_id, v.create_at, v.post_id, v.replaced_at, 0, v.id, 1, 0, '', ${versionIdSql}, v.user_id,
             'EditedOriginalMsg', v.replaced_at, v.post_id, v.message, ${previewed('v')}
      FROM rv v
      UNION ALL
      SELECT 'm', p.channel_id, p.create_at, p.id, p.update_at, 1, 0, 2, f.create_at, f.id, p.id, p.user_id, 'FileDeleted', f.delete_at, '',
             'delete ' || f.name, ${previewed('p')}
      FROM rp p JOIN file_infos f ON f.post_id = p.id
      WHERE p.delete_at = 0 AND p.file_ids <> '[]'::jsonb AND f.delete_at > 0 AND f.delete_at > ${f} AND f.delete_at <= ${e}),
    transfer AS (
      SELECT p.channel_id, p.create_at, p.id AS post_id, p.update_at AS key_t, p.user_id, f.create_at AS file_time, f.id AS file_id, f.name,
             ${zipPathSql} AS zip_path,
             json_build_object('post_id', p.id, 'id', f.id, 'name', f.name, 'path', f.path, 'size', f.size, 'mime_type', f.mime_type,
               'sha256', f.sha256, 'create_at', f.create_at, 'delete_at', f.delete_at, 'zip_path', ${zipPathSql})::text AS attachment
      FROM rp p JOIN file_infos f ON f.post_id = p.id WHERE p.file_ids <> '[]'::jsonb AND NOT (f.delete_at > 0)),
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
      FROM transfer t LEFT JOIN u ON u.id = t.user_id
      UNION ALL
      SELECT 'a', t.attachment, t.channel_id, 3, t.create_at, t.post_id, t.key_t, 0, 0, 0, t.file_time, t.file_id, 1
      FROM transfer t
      UNION ALL
      SELECT 'x', ${transferSql('FileTransferEnded')}, t.channel_id, 4, t.create_at, t.post_id, t.key_t, 0, 0, 0, t.file_time, t.file_id, 0
      FROM transfer t LEFT JOIN u ON u.id = t.user_id
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
