/** A groups row as stored. */
export interface GroupRow {
  id: string;
  name: string | null;
  display_name: string;
  description: string;
  source: string;
  remote_id: string;
  roles: string;
  allow_reference: boolean;
  create_at: number;
  update_at: number;
  delete_at: number;
}

/** Mattermost's Group object (plus `roles`, the system roles it grants). */
export function presentGroup(row: GroupRow, extra: { member_count?: number; member_ids?: string[]; has_syncables?: boolean; scheme_admin?: boolean } = {}): Record<string, unknown> {
  return {
    id: row.id, name: row.name ?? '', display_name: row.display_name, description: row.description, source: row.source,
    // A custom group's stored remote_id is only its own id (unique per source); Mattermost shows none.
    remote_id: row.source === 'custom' ? '' : row.remote_id,
    create_at: Number(row.create_at), update_at: Number(row.update_at), delete_at: Number(row.delete_at), allow_reference: row.allow_reference,
    roles: row.roles, ...extra,
  };
}

/** Mattermost's GroupSyncable (GroupTeam / GroupChannel). */
export function presentSyncable(row: { group_id: string; syncable_id: string; type: string; auto_add: boolean; scheme_admin: boolean; create_at: number; update_at: number; delete_at: number }): Record<string, unknown> {
  return {
    group_id: row.group_id, [row.type === 'team' ? 'team_id' : 'channel_id']: row.syncable_id, type: row.type === 'team' ? 'Team' : 'Channel',
    auto_add: row.auto_add, scheme_admin: row.scheme_admin, create_at: Number(row.create_at), update_at: Number(row.update_at), delete_at: Number(row.delete_at),
  };
}
