/**
 * Roles and the permissions they grant, as data: the policy module reads this table, and the permission
 * matrix tests are generated from it. Scoped roles (team_*, channel_*) come from memberships.
 */
export const permissions = [
  // system scope
  'manage_system', 'create_team', 'list_public_teams', 'join_public_teams', 'view_members', 'create_user',
  'manage_users', 'revoke_user_sessions', 'create_direct_channel', 'create_group_channel', 'create_bot',
  'manage_bots', 'create_user_access_token', 'read_other_users_teams',
  'read_compliance', 'run_compliance_export', 'download_compliance_export_result', 'manage_legal_holds',
  'ediscovery_search', 'manage_data_retention', 'read_audits',
  // identity: directory groups and their links, directory sync; custom (mention) groups, which grant nothing
  'manage_groups', 'sync_directory', 'manage_custom_groups',
  // team scope
  'view_team', 'list_team_channels', 'read_public_channel', 'join_public_channels', 'create_public_channel',
  'create_private_channel', 'add_user_to_team', 'remove_user_from_team', 'manage_team', 'manage_team_roles',
  'manage_incoming_webhooks', 'manage_outgoing_webhooks', 'manage_slash_commands', 'edit_others_posts',
  'delete_others_posts',
  // channel scope
  'read_channel', 'create_post', 'add_reaction', 'remove_reaction', 'upload_file', 'edit_post', 'delete_post',
  'use_slash_commands', 'manage_public_channel_members', 'manage_private_channel_members',
  'manage_channel_properties', 'manage_channel_roles', 'archive_channel',
] as const;

export type Permission = (typeof permissions)[number];

const teamUser: Permission[] = ['view_team', 'list_team_channels', 'read_public_channel', 'join_public_channels', 'create_public_channel', 'create_private_channel'];
const channelUser: Permission[] = [
  'read_channel', 'create_post', 'add_reaction', 'remove_reaction', 'upload_file', 'edit_post', 'delete_post',
  'use_slash_commands', 'manage_public_channel_members', 'manage_private_channel_members', 'manage_channel_properties',
];
const channelGuest: Permission[] = ['read_channel', 'create_post', 'add_reaction', 'remove_reaction', 'upload_file', 'edit_post', 'delete_post', 'use_slash_commands'];

export const rolePermissions: Record<string, readonly Permission[]> = {
  system_admin: permissions,
  system_user: ['create_team', 'list_public_teams', 'join_public_teams', 'view_members', 'create_direct_channel', 'create_group_channel', 'manage_custom_groups'],
  system_guest: ['create_direct_channel', 'create_group_channel'],
  system_user_manager: ['view_members', 'create_user', 'manage_users', 'revoke_user_sessions', 'read_other_users_teams', 'add_user_to_team', 'remove_user_from_team', 'manage_groups'],
  compliance_officer: ['read_compliance', 'run_compliance_export', 'download_compliance_export_result', 'manage_legal_holds', 'ediscovery_search', 'manage_data_retention', 'view_members'],
  auditor: ['read_audits'],
  team_user: teamUser,
  team_admin: [
    ...teamUser, 'add_user_to_team', 'remove_user_from_team', 'manage_team', 'manage_team_roles', 'manage_incoming_webhooks',
    'manage_outgoing_webhooks', 'manage_slash_commands', 'edit_others_posts', 'delete_others_posts', 'manage_public_channel_members',
    'manage_private_channel_members', 'manage_channel_properties', 'manage_channel_roles', 'archive_channel',
  ],
  team_guest: ['view_team'],
  channel_user: channelUser,
  channel_admin: [...channelUser, 'manage_channel_roles', 'archive_channel'],
  channel_guest: channelGuest,
};

/** True when any of `roles` grants `permission`. */
export function rolesGrant(roles: Iterable<string>, permission: Permission): boolean {
  for (const role of roles) if (rolePermissions[role]?.includes(permission)) return true;
  return false;
}
