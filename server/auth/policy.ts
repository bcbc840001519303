import { ForbiddenError } from '../lib/errors.ts';
import type { Actor } from './actor.ts';
import { rolesGrant, type Permission } from './permissions.ts';

/** A membership row's role flags (team_members and channel_members share them). */
export interface MembershipFlags {
  scheme_user: boolean;
  scheme_admin: boolean;
  scheme_guest: boolean;
  roles: string;
  delete_at?: number;
}

/** What an action is about, with the actor's memberships already loaded by the caller. */
export type Resource =
  | { kind: 'system' }
  | { kind: 'team'; teamMember?: MembershipFlags }
  | { kind: 'channel'; channelType: string; teamMember?: MembershipFlags; channelMember?: MembershipFlags };

function scopedRoles(scope: 'team' | 'channel', member: MembershipFlags | undefined): string[] {
  if (!member || (member.delete_at ?? 0) > 0) return [];
  const roles = member.roles.split(/\s+/).filter(Boolean);
  if (member.scheme_guest) roles.push(`${scope}_guest`);
  else {
    if (member.scheme_user) roles.push(`${scope}_user`);
    if (member.scheme_admin) roles.push(`${scope}_admin`);
  }
  return roles;
}

/** Every role the actor holds for `resource`: system roles plus those its memberships give. */
export function effectiveRoles(actor: Actor, resource: Resource): Set<string> {
  const roles = new Set(actor.roles);
  if (resource.kind === 'team' || resource.kind === 'channel') for (const r of scopedRoles('team', resource.teamMember)) roles.add(r);
  if (resource.kind === 'channel') {
    for (const r of scopedRoles('channel', resource.channelMember)) roles.add(r);
    // Anyone on the team may read a public channel they have not joined (guests excepted).
    if (resource.channelType === 'O' && roles.has('team_user') && !roles.has('system_guest')) roles.add('public_channel_reader');
  }
  return roles;
}

/** True when the actor may perform `permission` on `resource`. */
export function can(actor: Actor, permission: Permission, resource: Resource): boolean {
  const roles = effectiveRoles(actor, resource);
  if (permission === 'read_channel' && roles.has('public_channel_reader')) return true;
  return rolesGrant(roles, permission);
}

/** The one authorization check every endpoint calls; throws a 403-mapped error when denied. */
export function authorize(actor: Actor, permission: Permission, resource: Resource): void {
  if (!can(actor, permission, resource)) {
    throw new ForbiddenError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', `missing permission ${permission}`);
  }
}
