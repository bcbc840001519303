import type { BatchSource } from '../source.ts';

// The batch's records as SQL, for the formats PostgreSQL renders (after the source's range and
// participant CTEs). They follow the row mapping of BatchSource.messages (source.ts) and the
// runner's attach().

const previewed = (alias: string) => `CASE WHEN jsonb_typeof(${alias}.props->'previewed_post') = 'string' THEN ${alias}.props->>'previewed_post' END`;
const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';
/** versionMessageId (records.ts) in SQL. */
const versionIdSql = `(SELECT string_agg(substr('${alphabet}', (get_byte(d.h, n) & 31) + 1, 1), '' ORDER BY n)
  FROM (SELECT sha256(convert_to(v.post_id || ':' || v.id, 'UTF8')) AS h) d, generate_series(0, 25) n)`;
/** The attachment's name in the zip, as the runner's attach() builds it. */
const zipPathSql = `'files/' || p.id || '/' || f.id || '-' || COALESCE(NULLIF(left(regexp_replace(f.name, '[^A-Za-z0-9._-]+', '_', 'g'), 100), ''), 'file')`;

/**
 * CTE `msg`: one row per message record. kind `p` a post row as it is now, `v` a version an edit
 * replaced, `m` the creation of a deleted post new to the archive (sub 0, before its post row) or a
 * file deleted from a live post (sub 2, after it). Sort within a channel or by creation with
 * (create_at, post_id, key_t, rank, version_id, sub, file_time, file_id), as the reference order.
 */
export function messageRecordsCte(source: BatchSource): string {
  const { endTime: e, jobStartTime: j, from } = source.range;
  const f = from.updateAt;
  return `msg AS (
      SELECT 'p' AS kind, p.channel_id, p.create_at, p.id AS post_id, p.update_at AS key_t, 1 AS rank, 0::bigint AS version_id, 1 AS sub,
             0::bigint AS file_time, ''::text AS file_id, p.id AS mid, p.user_id,
             CASE WHEN p.delete_at > 0 THEN 'Deleted' WHEN p.update_at > p.create_at THEN
               CASE WHEN p.edit_at > 0 AND p.edit_at > ${f} THEN 'EditedNewMsg' ELSE 'UpdatedNoMsgChange' END ELSE '' END AS update_type,
             p.update_at AS updated, '' AS edited_new, p.message, ${previewed('p')} AS previews, p.root_id, p.type AS post_type, ''::text AS file_name
      FROM rp p
      UNION ALL
      SELECT 'm', p.channel_id, p.create_at, p.id, p.update_at, 1, 0, 0, 0, '', p.id, p.user_id, '', p.create_at, '', p.message, ${previewed('p')}, p.root_id, p.type, ''
      FROM rp p WHERE p.delete_at > 0 AND p.create_at > ${j}
      UNION ALL
      SELECT 'v', v.channel_id, v.create_at, v.post_id, v.replaced_at, 0, v.id, 1, 0, '', ${versionIdSql}, v.user_id,
             'EditedOriginalMsg', v.replaced_at, v.post_id, v.message, ${previewed('v')}, v.root_id, v.type, ''
      FROM rv v
      UNION ALL
      SELECT 'm', p.channel_id, p.create_at, p.id, p.update_at, 1, 0, 2, f.create_at, f.id, p.id, p.user_id, 'FileDeleted', f.delete_at, '',
             'delete ' || f.name, ${previewed('p')}, p.root_id, p.type, f.name
      FROM rp p JOIN file_infos f ON f.post_id = p.id
      WHERE p.delete_at = 0 AND p.file_ids <> '[]'::jsonb AND f.delete_at > 0 AND f.delete_at > ${f} AND f.delete_at <= ${e})`;
}

/**
 * CTE `attached`: the files of post rows in range that are still there (the ones copied into the
 * zip), with their name in the zip and, as `attachment`, the JSON a document row of kind `a` carries.
 */
export const attachedCte = `attached AS (
      SELECT p.channel_id, p.create_at, p.id AS post_id, p.update_at AS key_t, p.user_id, f.create_at AS file_time, f.id AS file_id, f.name,
             ${zipPathSql} AS zip_path,
             json_build_object('post_id', p.id, 'id', f.id, 'name', f.name, 'path', f.path, 'size', f.size, 'mime_type', f.mime_type,
               'sha256', f.sha256, 'create_at', f.create_at, 'delete_at', f.delete_at, 'zip_path', ${zipPathSql})::text AS attachment
      FROM rp p JOIN file_infos f ON f.post_id = p.id WHERE p.file_ids <> '[]'::jsonb AND NOT (f.delete_at > 0))`;
