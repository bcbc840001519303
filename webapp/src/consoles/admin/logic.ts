// The system console's decisions, kept free of React so they can be tested on their own: which
// sections a user sees, how a role change is spelled, how sync results and server facts read.
import type { User } from '../../api/types.ts';
import type { OidcSection, SsoConfig, SyncRun } from './api.ts';

export type SectionId = 'users' | 'groups' | 'teams' | 'sso' | 'health';

export interface Section {
  id: SectionId;
  label: string;
  /** Only system admins; user managers see the others. */
  adminOnly: boolean;
}

export const SECTIONS: readonly Section[] = [
  { id: 'users', label: 'Users', adminOnly: false },
  { id: 'groups', label: 'Groups and directory sync', adminOnly: false },
  { id: 'teams', label: 'Teams and channels', adminOnly: true },
  { id: 'sso', label: 'Single sign-on', adminOnly: true },
  { id: 'health', label: 'Server health', adminOnly: true },
];

export function roleList(roles: string): string[] {
  return roles.split(/\s+/).filter(Boolean);
}

export function isSystemAdmin(user: Pick<User, 'roles'>): boolean {
  return roleList(user.roles).includes('system_admin');
}

/** The sections this user may open (the server still checks every call). */
export function sectionsFor(user: Pick<User, 'roles'>): Section[] {
  const admin = isSystemAdmin(user);
  const manager = roleList(user.roles).includes('system_user_manager');
  if (!admin && !manager) return [];
  return SECTIONS.filter((s) => admin || !s.adminOnly);
}

/** `/users` → the users section; the console's home (`/`) and unknown paths go to the first allowed one. */
export function sectionOf(path: string, allowed: readonly Section[]): Section | undefined {
  const first = path.split('/').filter(Boolean)[0];
  return allowed.find((s) => s.id === first) ?? allowed[0];
}

/** System roles an admin assigns in the console, as the server names them. */
export const ASSIGNABLE_ROLES = [
  { role: 'system_admin', label: 'System admin' },
  { role: 'system_user_manager', label: 'User manager' },
  { role: 'compliance_officer', label: 'Compliance officer' },
  { role: 'auditor', label: 'Auditor' },
  { role: 'system_guest', label: 'Guest' },
] as const;

export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number]['role'];

/**
 * The role string sent to `PUT /users/{id}/roles` after ticking `role` on or off: every account is a
 * `system_user` unless it is a guest, and a guest cannot be an admin (the server refuses both).
 */
export function withRole(roles: string, role: AssignableRole, on: boolean): string {
  const set = new Set(roleList(roles));
  if (on) set.add(role);
  else set.delete(role);
  if (on && role === 'system_guest') set.delete('system_admin');
  if (on && role === 'system_admin') set.delete('system_guest');
  if (set.has('system_guest')) set.delete('system_user');
  else set.add('system_user');
  const order = ['system_user', ...ASSIGNABLE_ROLES.map((r) => r.role)];
  return [...set].sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(' ');
}

/**
 * Splits a user's effective roles (what the server shows: their own plus those their groups grant)
 * into their own and the group-granted ones, so saving roles never turns a group's grant into a
 * permanent one. A role both held directly and granted by a group counts as granted.
 */
export function splitRoles(effective: string, groups: readonly { display_name: string; roles: string }[]): { own: string; granted: Record<string, string[]> } {
  const granted: Record<string, string[]> = {};
  for (const g of groups) for (const role of roleList(g.roles)) (granted[role] ??= []).push(g.display_name);
  const own = roleList(effective).filter((r) => !granted[r]);
  return { own: own.join(' '), granted };
}

/** Human names of a user's roles, plain members shown as "Member". */
export function roleLabels(roles: string): string[] {
  const labels = ASSIGNABLE_ROLES.filter((r) => roleList(roles).includes(r.role)).map((r) => r.label);
  return labels.length ? labels : ['Member'];
}

export function displayName(user: Pick<User, 'username' | 'first_name' | 'last_name'>): string {
  const full = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return full || `@${user.username}`;
}

/** Where a page of results came back full, there may be another. */
export function hasNextPage(received: number, perPage: number): boolean {
  return received >= perPage;
}

/** What a directory sync did, in one sentence. */
export function describeSyncRun(run: SyncRun): string {
  const c = run.counts;
  const n = (key: keyof SyncRun['counts']) => c[key] ?? 0;
  switch (run.status) {
    case 'running':
      return 'Running…';
    case 'abandoned':
      return 'Stopped without finishing (the node running it went away).';
    case 'skipped':
      return 'Skipped: another sync was running.';
    case 'error':
      return `Failed: ${run.error || 'no reason given'}.`;
    default:
      return `${n('users')} users and ${n('groups')} groups read: ${n('created')} created, ${n('updated')} updated, ${n('deactivated')} deactivated${n('errors') ? `, ${n('errors')} errors` : ''}.`;
  }
}

/** The OpenID Connect provider in use, if any, with its issuer (the discovery URL without its well-known suffix). */
export function oidcProvider(config: SsoConfig): { service: string; section: OidcSection; issuer: string } | undefined {
  const sections: [string, OidcSection][] = [
    ['OpenID Connect', config.OpenIdSettings], ['GitLab', config.GitLabSettings], ['Google', config.GoogleSettings], ['Office 365', config.Office365Settings],
  ];
  const found = sections.find(([, s]) => s?.Enable);
  if (!found) return undefined;
  const [service, section] = found;
  return { service, section, issuer: (section.DiscoveryEndpoint ?? '').replace(/\/\.well-known\/openid-configuration$/, '') };
}

export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  return `${m} min ${Math.floor(seconds % 60)} s`;
}

export function formatTime(ms: number): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
