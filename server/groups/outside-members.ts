import type { Knex } from 'knex';
import type { UserRow } from '../users/presenter.ts';

/** A member of a team or channel with their scheme flags and every group they belong to. */
export interface OutsideMember {
  user: UserRow;
  scheme_guest: boolean;
  scheme_user: boolean;
  scheme_admin: boolean;
  groupIds: string[];
}

/**
 * Members of a team or channel who belong to none of `groupIds` (active groups only): those who would
 * leave if it were group-constrained to those groups, as Mattermost's members_minus_group_members
 * lists them before an admin turns the constraint on. Active humans only (bots are never removed by
 * group sync), by username, one page at a time, with the total.
 */
export async function membersOutsideGroups(
  db: Knex,
  props: { type: 'team' | 'channel'; id: string; groupIds: string[]; page: number; perPage: number },
): Promise<{ members: OutsideMember[]; total: number }> {
  const members = () => {
    const query = props.type === 'team'
      ? db('team_members as m').where({ 'm.team_id': props.id, 'm.delete_at': 0 })
      : db('channel_members as m').where({ 'm.channel_id': props.id });
    return query.join('users as u', 'u.id', 'm.user_id').where({ 'u.delete_at': 0, 'u.is_bot': false })
      .whereNotExists(db('group_members as gm').join('groups as g', 'g.id', 'gm.group_id')
        .whereRaw('gm.user_id = u.id').where({ 'gm.delete_at': 0, 'g.delete_at': 0 }).whereIn('gm.group_id', props.groupIds).select(db.raw('1')));
  };
  const [{ n }] = await members().count({ n: '*' });
  const rows = (await members().orderBy('u.username').orderBy('u.id').offset(props.page * props.perPage).limit(props.perPage)
    .select('u.*', 'm.scheme_guest', 'm.scheme_user', 'm.scheme_admin')) as (UserRow & { scheme_guest: boolean; scheme_user: boolean; scheme_admin: boolean })[];
  const memberships = rows.length
    ? ((await db('group_members as gm').join('groups as g', 'g.id', 'gm.group_id').whereIn('gm.user_id', rows.map((r) => r.id))
      .where({ 'gm.delete_at': 0, 'g.delete_at': 0 }).orderBy('g.display_name').select('gm.user_id', 'gm.group_id')) as { user_id: string; group_id: string }[])
    : [];
  return {
    total: Number(n),
    members: rows.map(({ scheme_guest, scheme_user, scheme_admin, ...user }) => ({
      user: user as UserRow, scheme_guest, scheme_user, scheme_admin,
      groupIds: memberships.filter((m) => m.user_id === user.id).map((m) => m.group_id),
    })),
  };
}
