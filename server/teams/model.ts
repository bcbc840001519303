import { z } from 'zod';

export interface TeamRow {
  id: string;
  create_at: number;
  update_at: number;
  delete_at: number;
  display_name: string;
  name: string;
  description: string;
  email: string;
  type: 'O' | 'I';
  company_name: string;
  allowed_domains: string;
  invite_id: string;
  allow_open_invite: boolean;
  group_constrained: boolean;
}

export interface TeamMemberRow {
  team_id: string;
  user_id: string;
  roles: string;
  scheme_user: boolean;
  scheme_admin: boolean;
  scheme_guest: boolean;
  create_at: number;
  delete_at: number;
}

// Mattermost's rule for team and channel URL names: lowercase letters, digits, '-' and '_'.
export const urlNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{1,63}$/, 'must be 2-64 lowercase letters, digits, "-" or "_", starting with a letter or digit');
export const displayNameSchema = z.string().trim().min(1).max(64);

/** Names Mattermost reserves because they collide with webapp routes. */
export const reservedTeamNames = new Set(['admin', 'api', 'channel', 'claim', 'error', 'files', 'help', 'hooks', 'login', 'logout', 'oauth', 'plug', 'plugins', 'post', 'signup', 'static', 'system', 'custodian', 'playbooks', 'boards']);

/** The Team object of API v4; invite_id only for those who may invite. */
export function presentTeam(row: TeamRow, showInviteId: boolean): Record<string, unknown> {
  return {
    id: row.id, create_at: row.create_at, update_at: row.update_at, delete_at: row.delete_at,
    display_name: row.display_name, name: row.name, description: row.description, email: showInviteId ? row.email : '',
    type: row.type, company_name: row.company_name, allowed_domains: row.allowed_domains,
    invite_id: showInviteId ? row.invite_id : '', allow_open_invite: row.allow_open_invite,
    scheme_id: null, group_constrained: row.group_constrained, policy_id: null,
  };
}

/** Mattermost's space-separated role names for a membership's flags. */
export function membershipRoles(scope: 'team' | 'channel', m: { roles: string; scheme_user: boolean; scheme_admin: boolean; scheme_guest: boolean }): string {
  const roles = m.roles.split(/\s+/).filter(Boolean);
  if (m.scheme_guest) roles.push(`${scope}_guest`);
  if (m.scheme_user) roles.push(`${scope}_user`);
  if (m.scheme_admin) roles.push(`${scope}_admin`);
  return roles.join(' ');
}

export function presentTeamMember(row: TeamMemberRow): Record<string, unknown> {
  return {
    team_id: row.team_id, user_id: row.user_id, roles: membershipRoles('team', row), delete_at: row.delete_at,
    scheme_user: row.scheme_user, scheme_admin: row.scheme_admin, scheme_guest: row.scheme_guest,
    explicit_roles: row.roles, create_at: row.create_at,
  };
}
