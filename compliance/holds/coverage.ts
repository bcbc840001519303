// What a legal hold covers, as SQL: the one definition retention and eDiscovery both use
// (docs/decisions/0010-legal-hold-coverage.md). Everything here builds SQL fragments over the
// columns of the caller's query; nothing runs a query itself.
//
// A hold covers a message (a post, with all its versions, reactions and files) when, for the hold's
// current version:
//   1. time: starts_at <= sent time, and ends_at = 0 (open) or sent time <= ends_at; and
//   2. scope, any of:
//      a. a custodian sent it (custodians = the hold's users, plus every user with a membership row,
//         current or ended, in one of the hold's groups);
//      b. a custodian was a member of its channel when it was sent (channel_member_history:
//         join_time <= sent time and (leave_time is null or sent time <= leave_time));
//      c. its channel is one of the hold's channels; and
//   3. query: the hold has no query, or the message's current text or any prior version's text
//      matches it.
// A file is covered when its post is covered; a file never attached to a post is covered through
// rules 1 and 2 with its uploader and channel, and only by holds without a query.
// Released holds cover nothing (their rows stay, for the record and for "hold:" searches).
import type { Knex } from 'knex';

/** A SQL fragment and its positional bindings. */
export interface Sql {
  sql: string;
  bindings: Knex.RawBinding[];
}

/** Column expressions of the thing whose coverage is asked, in the caller's query. */
export interface CoverageSubject {
  /** Who sent it (posts) or uploaded it (files). */
  user: string;
  channel: string;
  /** When it was sent or uploaded, epoch milliseconds. */
  at: string;
  /** The post whose text (current and prior versions) a hold's query is matched against. */
  post?: { id: string; vector: string };
}

/** Which holds: every active hold, or one hold (active or released) by id. */
export type HoldSelection = { kind: 'active' } | { kind: 'hold'; holdId: string };

const holdIsCustodian = (user: string) => `(
      EXISTS (SELECT 1 FROM legal_hold_scope su WHERE su.hold_id = v.hold_id AND su.version = v.version AND su.kind = 'user' AND su.target_id = ${user})
      OR EXISTS (SELECT 1 FROM legal_hold_scope sg JOIN group_members gm ON gm.group_id = sg.target_id
                 WHERE sg.hold_id = v.hold_id AND sg.version = v.version AND sg.kind = 'group' AND gm.user_id = ${user}))`;

const memberAt = (user: string, channel: string, at: string) =>
  `m.user_id = ${user} AND m.channel_id = ${channel} AND m.join_time <= ${at} AND (m.leave_time IS NULL OR m.leave_time >= ${at})`;

/** SQL that is true when a hold of `holds` covers the subject. */
export function heldSql(subject: CoverageSubject, holds: HoldSelection = { kind: 'active' }): Sql {
  const { user, channel, at, post } = subject;
  const which = holds.kind === 'active' ? 'h.released_at = 0' : 'h.id = ?';
  const bindings: Knex.RawBinding[] = holds.kind === 'active' ? [] : [holds.holdId];
  const query = post
    ? `(v.query_tsquery IS NULL OR ${post.vector} @@ v.query_tsquery
        OR EXISTS (SELECT 1 FROM post_versions pv WHERE pv.post_id = ${post.id} AND pv.search_vector @@ v.query_tsquery))`
    : 'v.query_tsquery IS NULL';
  const sql = `EXISTS (
    SELECT 1 FROM legal_holds h JOIN legal_hold_versions v ON v.hold_id = h.id AND v.version = h.current_version
    WHERE ${which}
      AND ${at} >= v.starts_at AND (v.ends_at = 0 OR ${at} <= v.ends_at)
      AND (
        EXISTS (SELECT 1 FROM legal_hold_scope sc WHERE sc.hold_id = v.hold_id AND sc.version = v.version AND sc.kind = 'channel' AND sc.target_id = ${channel})
        OR ${holdIsCustodian(user)}
        OR EXISTS (
          SELECT 1 FROM legal_hold_scope su JOIN channel_member_history m ON ${memberAt('su.target_id', channel, at)}
          WHERE su.hold_id = v.hold_id AND su.version = v.version AND su.kind = 'user')
        OR EXISTS (
          SELECT 1 FROM legal_hold_scope sg JOIN group_members gm ON gm.group_id = sg.target_id
            JOIN channel_member_history m ON ${memberAt('gm.user_id', channel, at)}
          WHERE sg.hold_id = v.hold_id AND sg.version = v.version AND sg.kind = 'group')
      )
      AND ${query})`;
  return { sql, bindings };
}

/** SQL true when a file is covered: through its post, or (never attached) through its uploader and channel. */
export function fileHeldSql(file: { postId: string; creator: string; channel: string; at: string }): Sql {
  const viaPost = heldSql({ user: 'hp.user_id', channel: 'hp.channel_id', at: 'hp.create_at', post: { id: 'hp.id', vector: 'hp.search_vector' } });
  const own = heldSql({ user: file.creator, channel: file.channel, at: file.at });
  return {
    sql: `(EXISTS (SELECT 1 FROM posts hp WHERE hp.id = ${file.postId} AND ${viaPost.sql}) OR (${file.postId} = '' AND ${own.sql}))`,
    bindings: [...viaPost.bindings, ...own.bindings],
  };
}

/**
 * SQL true when the subject is in the reach of these custodians (user ids), by rules 2a and 2b
 * without dates or query: what eDiscovery's `custodian:` filter means.
 */
export function custodianSql(subject: Pick<CoverageSubject, 'user' | 'channel' | 'at'>, userIds: string[]): Sql {
  return {
    sql: `(${subject.user} = ANY(?::varchar[]) OR EXISTS (SELECT 1 FROM channel_member_history m WHERE m.user_id = ANY(?::varchar[]) AND m.channel_id = ${subject.channel}
           AND m.join_time <= ${subject.at} AND (m.leave_time IS NULL OR m.leave_time >= ${subject.at})))`,
    bindings: [userIds, userIds],
  };
}

/** The custodians (user ids) of a hold version: its users and the members of its groups. */
export function custodianIdsSql(holdId: string, version: number): Sql {
  return {
    sql: `SELECT target_id AS user_id FROM legal_hold_scope WHERE hold_id = ? AND version = ? AND kind = 'user'
          UNION SELECT gm.user_id FROM legal_hold_scope s JOIN group_members gm ON gm.group_id = s.target_id
          WHERE s.hold_id = ? AND s.version = ? AND s.kind = 'group'`,
    bindings: [holdId, version, holdId, version],
  };
}
