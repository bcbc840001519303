// The REST calls of the system console, over the app's API client (same cookie, CSRF token, error
// handling and session-expiry path as the chat). Types carry only the fields the console reads.
import { API, ApiError, request } from '../../api/client.ts';
import type { Team, User } from '../../api/types.ts';

const q = encodeURIComponent;
const get = <T>(path: string) => request<T>('GET', path);
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
const del = <T>(path: string) => request<T>('DELETE', path);

export interface AdminUser extends User {
  auth_service?: string;
  create_at?: number;
  last_activity_at?: number;
}

export interface Session {
  id: string;
  create_at: number;
  last_activity_at: number;
  expires_at: number;
  device_id: string;
}

export interface NewUser {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
}

export interface AdminTeam extends Team {
  group_constrained?: boolean | null;
}

export interface AdminChannel {
  id: string;
  team_id: string;
  type: 'O' | 'P';
  name: string;
  display_name: string;
  delete_at: number;
  group_constrained?: boolean | null;
  team_display_name: string;
  team_name: string;
}

export interface Group {
  id: string;
  display_name: string;
  name: string;
  description: string;
  source: 'ldap' | 'saml' | 'oidc' | 'custom';
  remote_id: string | null;
  member_count?: number;
  roles: string;
}

export type SyncableKind = 'team' | 'channel';

export interface GroupSyncable {
  group_id: string;
  team_id?: string;
  channel_id?: string;
  type: 'Team' | 'Channel';
  auto_add: boolean;
  scheme_admin: boolean;
}

export interface DirectoryGroup {
  primary_key: string;
  name: string;
  mattermost_group_id: string | null;
  has_syncables: boolean;
}

export interface SyncRun {
  id: string;
  trigger: 'manual' | 'scheduled';
  node_id: string;
  status: 'running' | 'success' | 'error' | 'skipped' | 'abandoned';
  start_at: number;
  finish_at: number;
  counts: Partial<Record<'users' | 'created' | 'updated' | 'deactivated' | 'groups' | 'errors', number>>;
  error: string;
}

export interface SyncStatus {
  running: boolean;
  last_success_at: number;
  sync_interval_minutes: number;
  runs: SyncRun[];
}

/** The SSO sections of `GET /config` (the server sends no secrets). */
export interface SsoConfig {
  ServiceSettings: { SiteURL: string };
  SamlSettings: { Enable: boolean; IdpMetadataURL: string; ServiceProviderIdentifier: string; AssertionConsumerServiceURL: string };
  LdapSettings: { Enable: boolean; EnableSync: boolean; LdapServer: string; LdapPort: number; ConnectionSecurity: string; BaseDN: string; SyncIntervalMinutes: number };
  OpenIdSettings: OidcSection;
  GitLabSettings: OidcSection;
  GoogleSettings: OidcSection;
  Office365Settings: OidcSection;
}

export interface OidcSection {
  Enable: boolean;
  Id?: string;
  DiscoveryEndpoint?: string;
  Scope?: string;
}

export interface ServerStatus {
  status: string;
  database_status: string;
  version?: string;
  node_id?: string;
  uptime_seconds?: number;
}

export interface Job {
  id: string;
  type: string;
  status: string;
  progress: number;
  create_at: number;
  start_at: number;
  last_activity_at: number;
}

export interface UserQuery {
  page: number;
  perPage: number;
  term: string;
  status: 'all' | 'active' | 'inactive';
}

export const adminApi = {
  /** A page of users, or (with a term) the first matches of a search; both include deactivated users on request. */
  users: ({ page, perPage, term, status }: UserQuery) => {
    if (term.trim()) {
      return post<AdminUser[]>('/users/search', { term: term.trim(), allow_inactive: status !== 'active', limit: 100 }).then((users) =>
        status === 'inactive' ? users.filter((u) => u.delete_at > 0) : users,
      );
    }
    const params = new URLSearchParams({ page: String(page), per_page: String(perPage) });
    if (status !== 'all') params.set(status, 'true');
    return get<AdminUser[]>(`/users?${params}`);
  },
  createUser: (user: NewUser) => post<AdminUser>('/users', user),
  setActive: (userId: string, active: boolean) => put<unknown>(`/users/${q(userId)}/active`, { active }),
  setRoles: (userId: string, roles: string) => put<unknown>(`/users/${q(userId)}/roles`, { roles }),
  sessions: (userId: string) => get<Session[]>(`/users/${q(userId)}/sessions`),
  revokeSessions: (userId: string) => post<unknown>(`/users/${q(userId)}/sessions/revoke/all`),
  userGroups: (userId: string) => get<Group[]>(`/users/${q(userId)}/groups`),

  teams: (includeDeleted: boolean) => get<AdminTeam[]>(`/teams?per_page=200${includeDeleted ? '&include_deleted=true' : ''}`),
  archiveTeam: (teamId: string) => del<unknown>(`/teams/${q(teamId)}`),
  restoreTeam: (teamId: string) => post<AdminTeam>(`/teams/${q(teamId)}/restore`),
  channels: (options: { page: number; perPage: number; includeDeleted: boolean; teamId?: string }) => {
    const params = new URLSearchParams({ page: String(options.page), per_page: String(options.perPage), include_deleted: String(options.includeDeleted) });
    if (options.teamId) params.set('team_id', options.teamId);
    return get<AdminChannel[]>(`/channels?${params}`);
  },
  archiveChannel: (channelId: string) => del<unknown>(`/channels/${q(channelId)}`),
  restoreChannel: (channelId: string) => post<unknown>(`/channels/${q(channelId)}/restore`),
  team: (teamId: string) => get<AdminTeam>(`/teams/${q(teamId)}`),
  channel: (channelId: string) => get<AdminChannel>(`/channels/${q(channelId)}`),

  groups: (page: number, perPage: number, term: string) => {
    const params = new URLSearchParams({ page: String(page), per_page: String(perPage) });
    if (term.trim()) params.set('q', term.trim());
    return get<Group[]>(`/groups?${params}`);
  },
  groupSyncables: (groupId: string, kind: SyncableKind) => get<GroupSyncable[]>(`/groups/${q(groupId)}/${kind}s`),
  link: (groupId: string, kind: SyncableKind, id: string, autoAdd: boolean) => post<GroupSyncable>(`/groups/${q(groupId)}/${kind}s/${q(id)}/link`, { auto_add: autoAdd }),
  unlink: (groupId: string, kind: SyncableKind, id: string) => del<unknown>(`/groups/${q(groupId)}/${kind}s/${q(id)}/link`),
  setConstrained: (kind: SyncableKind, id: string, constrained: boolean) => put<unknown>(`/groups/syncables/${kind}s/${q(id)}/constrained`, { group_constrained: constrained }),
  directoryGroups: () => get<{ count: number; groups: DirectoryGroup[] }>('/ldap/groups'),
  linkDirectoryGroup: (remoteId: string) => post<Group>(`/ldap/groups/${q(remoteId)}/link`),
  syncNow: () => post<{ status: string; running?: boolean }>('/ldap/sync'),
  syncStatus: () => get<SyncStatus>('/ldap/sync/status'),

  ssoConfig: () => get<SsoConfig>('/config'),
  samlMetadataUrl: `${API}/saml/metadata`,
  ping: () =>
    get<ServerStatus>('/system/ping?get_server_status=true').catch((err: unknown): ServerStatus => {
      // A 503 is the server saying its database does not answer: a state to show, not a failure to load.
      if (err instanceof ApiError && err.status === 503) return { status: 'UNHEALTHY', database_status: 'UNHEALTHY' };
      throw err;
    }),
  migrations: () => get<{ schema_version: string; migrations: string[] }>('/system/migrations'),
  jobs: () => get<Job[]>('/jobs?per_page=20'),
};
