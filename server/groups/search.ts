import type { Knex } from 'knex';
import type { GroupRow } from '../api/groups/presenter.ts';

/** Mattermost's GroupSearchOpts, as GET /groups takes them (the route decides what the caller may ask). */
export interface GroupSearch {
  q?: string;
  source?: string;
  onlySyncable: boolean;
  /** Only groups people can mention. */
  onlyReferenceable: boolean;
  /** Only groups this user belongs to. */
  hasMember?: string;
  notAssociatedToTeam?: string;
  notAssociatedToChannel?: string;
  /** With notAssociatedToChannel: when the channel's team is group-constrained, only groups linked to that team. */
  parentTeamPermitted: boolean;
  archived: 'exclude' | 'include' | 'only';
  /** Groups changed at or after this time (epoch ms). */
  since?: number;
  page: number;
  perPage: number;
}

const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The groups matching `search`, by display name, one page at a time, and how many match in all. */
export async function searchGroups(db: Knex, search: GroupSearch): Promise<{ rows: GroupRow[]; total: number }> {
  const matching = () => {
    const query = db('groups as g');
    if (search.archived === 'exclude') query.where('g.delete_at', 0);
    if (search.archived === 'only') query.where('g.delete_at', '>', 0);
    if (search.source) query.where('g.source', search.source);
    if (search.onlySyncable) query.whereNot('g.source', 'custom');
    if (search.onlyReferenceable) query.where('g.allow_reference', true);
    if (search.since !== undefined) query.where('g.update_at', '>=', search.since);
    if (search.q) query.where((w) => w.whereRaw('g.display_name ILIKE ?', [likePattern(search.q!)]).orWhereRaw('g.name ILIKE ?', [likePattern(search.q!)]));
    if (search.hasMember) {
      query.whereExists(db('group_members as gm').whereRaw('gm.group_id = g.id').where({ 'gm.user_id': search.hasMember, 'gm.delete_at': 0 }).select(db.raw('1')));
    }
    const linkedTo = (type: 'team' | 'channel', id: string) => db('group_syncables as gs').whereRaw('gs.group_id = g.id').where({ 'gs.type': type, 'gs.syncable_id': id, 'gs.delete_at': 0 }).select(db.raw('1'));
    if (search.notAssociatedToTeam) query.whereNotExists(linkedTo('team', search.notAssociatedToTeam));
    if (search.notAssociatedToChannel) {
      query.whereNotExists(linkedTo('channel', search.notAssociatedToChannel));
      if (search.parentTeamPermitted) {
        // A group-constrained team admits only its groups' members: offering another group for one of
        // its channels would offer people the team would refuse.
        query.whereRaw(`(NOT EXISTS (SELECT 1 FROM channels c JOIN teams t ON t.id = c.team_id WHERE c.id = ? AND t.group_constrained)
          OR EXISTS (SELECT 1 FROM channels c JOIN group_syncables gs ON gs.syncable_id = c.team_id AND gs.type = 'team' AND gs.delete_at = 0 WHERE c.id = ? AND gs.group_id = g.id))`,
        [search.notAssociatedToChannel, search.notAssociatedToChannel]);
      }
    }
    return query;
  };
  const [{ n }] = await matching().count({ n: '*' });
  const rows = (await matching().orderBy('g.display_name').orderBy('g.id').offset(search.page * search.perPage).limit(search.perPage).select('g.*')) as GroupRow[];
  return { rows, total: Number(n) };
}

/** Active member counts (and, when asked, member ids) of `groupIds`. */
export async function groupMembership(db: Knex, groupIds: string[], withIds: boolean): Promise<Map<string, { count: number; ids?: string[] }>> {
  const result = new Map<string, { count: number; ids?: string[] }>(groupIds.map((id) => [id, { count: 0, ids: withIds ? [] : undefined }]));
  if (groupIds.length === 0) return result;
  const query = db('group_members as gm').whereIn('gm.group_id', groupIds).where({ 'gm.delete_at': 0 }).groupBy('gm.group_id')
    .select('gm.group_id', db.raw('count(*)::int AS n'));
  if (withIds) query.select(db.raw('array_agg(gm.user_id ORDER BY gm.user_id) AS ids'));
  for (const row of (await query) as { group_id: string; n: number; ids?: string[] }[]) result.set(row.group_id, { count: row.n, ids: row.ids });
  return result;
}
