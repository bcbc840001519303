import { expect } from 'chai';
import { apiRouters } from '../../server/api/index.ts';
import type { Actor } from '../../server/auth/actor.ts';
import { rolePermissions, type Permission } from '../../server/auth/permissions.ts';
import { can, type MembershipFlags, type Resource } from '../../server/auth/policy.ts';
import { newId } from '../../server/lib/ids.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

/**
 * Every role × every endpoint group: the expected answer comes from the policy module itself
 * (`can(actor, permission, resource)` over the role table of permissions.ts), and the real endpoint is
 * called over HTTP. One representative endpoint per permission, listed in `endpoints` below; a
 * permission whose endpoint another area has not built yet is reported as pending, not passed.
 *
 * Roles: system roles (system_admin, system_user_manager, compliance_officer, auditor) are held by
 * users who belong to no team; team_admin, channel_admin and user are plain system users whose team or
 * channel membership carries the scoped role; guest is a system guest who is a member of both.
 */
const roles = ['system_admin', 'system_user_manager', 'compliance_officer', 'auditor', 'team_admin', 'channel_admin', 'user', 'guest'] as const;
type Role = (typeof roles)[number];

const systemRolesOf: Record<Role, string> = {
  system_admin: 'system_user system_admin', system_user_manager: 'system_user system_user_manager', compliance_officer: 'system_user compliance_officer',
  auditor: 'system_user auditor', team_admin: 'system_user', channel_admin: 'system_user', user: 'system_user', guest: 'system_guest',
};
const flags = (f: Partial<MembershipFlags>): MembershipFlags => ({ scheme_user: false, scheme_admin: false, scheme_guest: false, roles: '', ...f });
const teamMembership: Partial<Record<Role, MembershipFlags>> = {
  team_admin: flags({ scheme_user: true, scheme_admin: true }), channel_admin: flags({ scheme_user: true }), user: flags({ scheme_user: true }), guest: flags({ scheme_guest: true }),
};
const channelMembership: Partial<Record<Role, MembershipFlags>> = {
  channel_admin: flags({ scheme_user: true, scheme_admin: true }), user: flags({ scheme_user: true }), guest: flags({ scheme_guest: true }),
};

interface Fixture {
  app: TestApp;
  teamId: string;
  channelId: string;
  groupId: string;
  other: TestUser;
  seq: number;
}
interface Endpoint {
  group: string;
  permission: Permission;
  scope: 'system' | 'team' | 'channel';
  method: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
}

const unique = (f: Fixture) => `m${Date.now().toString(36)}${(++f.seq).toString(36)}`;
const endpoints: Endpoint[] = [
  { group: 'users', permission: 'manage_system', scope: 'system', method: 'PUT', path: (f) => `/api/v4/users/${f.other.user.id}/roles`, body: () => ({ roles: 'system_user' }) },
  { group: 'users', permission: 'create_user', scope: 'system', method: 'POST', path: () => '/api/v4/users', body: (f) => { const n = unique(f); return { email: `${n}@example.com`, username: n, password: 'correct-horse-battery-9' }; } },
  { group: 'users', permission: 'manage_users', scope: 'system', method: 'PUT', path: (f) => `/api/v4/users/${f.other.user.id}/patch`, body: () => ({ nickname: 'nick' }) },
  { group: 'sessions', permission: 'revoke_user_sessions', scope: 'system', method: 'GET', path: (f) => `/api/v4/users/${f.other.user.id}/sessions` },
  { group: 'users', permission: 'read_other_users_teams', scope: 'system', method: 'GET', path: (f) => `/api/v4/users/${f.other.user.id}/teams` },
  { group: 'teams', permission: 'create_team', scope: 'system', method: 'POST', path: () => '/api/v4/teams', body: (f) => ({ name: unique(f), display_name: 'Matrix', type: 'O' }) },
  // GET /groups is open to every user (as in Mattermost, mentionable groups only), so another read stands for the permission.
  { group: 'groups', permission: 'manage_groups', scope: 'system', method: 'GET', path: (f) => `/api/v4/groups/${f.groupId}/stats` },
  { group: 'custom groups', permission: 'manage_custom_groups', scope: 'system', method: 'POST', path: () => '/api/v4/groups', body: (f) => ({ name: unique(f), display_name: 'Matrix', source: 'custom', allow_reference: true }) },
  { group: 'ldap', permission: 'sync_directory', scope: 'system', method: 'POST', path: () => '/api/v4/ldap/sync' },
  { group: 'audits', permission: 'read_audits', scope: 'system', method: 'GET', path: () => '/api/v4/audits' },
  { group: 'legal holds', permission: 'manage_legal_holds', scope: 'system', method: 'GET', path: () => '/api/v4/legal_holds' },
  { group: 'data retention', permission: 'manage_data_retention', scope: 'system', method: 'GET', path: () => '/api/v4/data_retention/policy' },
  { group: 'ediscovery', permission: 'ediscovery_search', scope: 'system', method: 'POST', path: () => '/api/v4/ediscovery/search', body: () => ({ terms: 'matrix' }) },
  { group: 'teams', permission: 'manage_team', scope: 'team', method: 'PUT', path: (f) => `/api/v4/teams/${f.teamId}/patch`, body: () => ({ description: 'matrix' }) },
  { group: 'team members', permission: 'add_user_to_team', scope: 'team', method: 'POST', path: (f) => `/api/v4/teams/${f.teamId}/members`, body: (f) => ({ team_id: f.teamId, user_id: f.other.user.id }) },
  { group: 'channels', permission: 'read_channel', scope: 'channel', method: 'GET', path: (f) => `/api/v4/channels/${f.channelId}/posts` },
  { group: 'posts', permission: 'create_post', scope: 'channel', method: 'POST', path: () => '/api/v4/posts', body: (f) => ({ channel_id: f.channelId, message: 'matrix' }) },
  { group: 'channels', permission: 'manage_channel_properties', scope: 'channel', method: 'PUT', path: (f) => `/api/v4/channels/${f.channelId}/patch`, body: () => ({ purpose: 'matrix' }) },
  { group: 'channel members', permission: 'manage_channel_roles', scope: 'channel', method: 'PUT', path: (f) => `/api/v4/channels/${f.channelId}/members/${f.other.user.id}/schemeRoles`, body: () => ({ scheme_admin: false, scheme_user: true }) },
];

function actorFor(role: Role): Actor {
  return { userId: 'x', sessionId: 'x', roles: new Set(systemRolesOf[role].split(' ')), isBot: false, via: 'bearer', ipAddress: '', userAgent: '' };
}
function resourceFor(role: Role, scope: Endpoint['scope']): Resource {
  if (scope === 'system') return { kind: 'system' };
  if (scope === 'team') return { kind: 'team', teamMember: teamMembership[role] };
  return { kind: 'channel', channelType: 'P', teamMember: teamMembership[role], channelMember: channelMembership[role] };
}

describe('permission matrix: every role × every endpoint group, from the policy module, over HTTP', () => {
  const fixture = { seq: 0 } as Fixture;
  const users = {} as Record<Role, TestUser>;
  let served: Set<string>;

  before(async function () {
    this.timeout(60_000);
    fixture.app = await bootApp();
    for (const role of roles) users[role] = await makeUser(fixture.app, { roles: systemRolesOf[role] });
    fixture.other = await makeUser(fixture.app);
    const team = await makeTeam(fixture.app.ownerDb, { members: [users.channel_admin.user, users.user.user, users.guest.user, fixture.other.user], admins: [users.team_admin.user] });
    fixture.teamId = team.id;
    const channel = await makeChannel(fixture.app.ownerDb, team.id, { type: 'P', members: [users.channel_admin.user, users.user.user, users.guest.user, fixture.other.user] });
    fixture.channelId = channel.id;
    fixture.groupId = newId();
    await fixture.app.ownerDb('groups').insert({ id: fixture.groupId, source: 'ldap', remote_id: fixture.groupId, display_name: 'Matrix', create_at: Date.now(), update_at: Date.now() });
    await fixture.app.ownerDb('channel_members').where({ channel_id: channel.id, user_id: users.channel_admin.user.id }).update({ scheme_admin: true });
    served = new Set(apiRouters(fixture.app.services).flatMap((r) => r.stack.flatMap((l) => l.methods.map((m) => `${m} /api/v4${l.path}`))));
  });
  after(async () => fixture.app?.close());

  it('lists only real permissions, and reaches every scope and every system-level identity permission', () => {
    const known = new Set(Object.values(rolePermissions).flat());
    for (const e of endpoints) expect(known.has(e.permission), e.permission).to.equal(true);
    expect(new Set(endpoints.map((e) => e.scope))).to.deep.equal(new Set(['system', 'team', 'channel']));
    for (const p of ['manage_groups', 'sync_directory', 'manage_system', 'manage_users', 'create_user', 'revoke_user_sessions', 'read_audits'] as Permission[]) {
      expect(endpoints.some((e) => e.permission === p), p).to.equal(true);
    }
  });

  for (const endpoint of endpoints) {
    for (const role of roles) {
      const allowed = can(actorFor(role), endpoint.permission, resourceFor(role, endpoint.scope));
      it(`${endpoint.group}: ${role} ${allowed ? 'may' : 'may not'} ${endpoint.permission} (${endpoint.method} ${endpoint.path({ teamId: ':team_id', channelId: ':channel_id', groupId: ':group_id', other: { user: { id: ':user_id' } } } as never)})`, async function () {
        const pattern = endpoint.path({ teamId: ':team_id', channelId: ':channel_id', groupId: ':group_id', other: { user: { id: ':user_id' } } } as never).replace(/\/:[a-z_]+/g, '/:x');
        const isServed = [...served].some((s) => s.startsWith(`${endpoint.method} `) && s.slice(endpoint.method.length + 1).replace(/\/:[a-z_]+/g, '/:x') === pattern);
        if (!isServed) this.skip();
        const res = await request(fixture.app, endpoint.method, endpoint.path(fixture), { token: users[role].token, body: endpoint.body?.(fixture) });
        if (allowed) {
          expect(res.status, `${role} should pass the permission check: ${res.text}`).to.not.be.oneOf([401, 403]);
          expect(res.status, res.text).to.be.below(500);
        } else {
          expect(res.status, res.text).to.equal(403);
          expect(res.json.id).to.equal('api.context.permissions.app_error');
        }
      });
    }
  }
});
