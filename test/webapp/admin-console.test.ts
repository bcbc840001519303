// The system console's logic and the server-side renders of its pieces (webapp/src/consoles/admin/).
import { expect } from 'chai';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { User } from '../../webapp/src/api/types.ts';
import type { AdminChannel, AdminTeam, AdminUser, SsoConfig, SyncRun, SyncStatus } from '../../webapp/src/consoles/admin/api.ts';
import {
  describeSyncRun, formatUptime, hasNextPage, oidcProvider, roleLabels, sectionOf, sectionsFor, splitRoles, withRole,
} from '../../webapp/src/consoles/admin/logic.ts';
import { fakeBrowserGlobals, registerTsx } from './support/tsx.ts';

const user = (username: string, extra: Partial<AdminUser> = {}): AdminUser => ({ id: `id-${username}`, username, roles: 'system_user', delete_at: 0, email: `${username}@example.com`, ...extra });
const run = (extra: Partial<SyncRun>): SyncRun => ({ id: 'r1', trigger: 'manual', node_id: 'node-1', status: 'success', start_at: 1_700_000_000_000, finish_at: 1_700_000_001_000, counts: {}, error: '', ...extra });
const ssoConfig = (extra: Partial<SsoConfig> = {}): SsoConfig => ({
  ServiceSettings: { SiteURL: 'https://chat.example.com' },
  SamlSettings: { Enable: false, IdpMetadataURL: '', ServiceProviderIdentifier: 'https://chat.example.com/login/sso/saml', AssertionConsumerServiceURL: 'https://chat.example.com/login/sso/saml' },
  LdapSettings: { Enable: false, EnableSync: false, LdapServer: '', LdapPort: 0, ConnectionSecurity: '', BaseDN: '', SyncIntervalMinutes: 60 },
  OpenIdSettings: { Enable: false }, GitLabSettings: { Enable: false }, GoogleSettings: { Enable: false }, Office365Settings: { Enable: false },
  ...extra,
});

describe('webapp system console', () => {
  describe('sections', () => {
    it('shows system admins everything, user managers users and groups, others nothing', () => {
      expect(sectionsFor({ roles: 'system_user system_admin' }).map((s) => s.id)).to.deep.equal(['users', 'groups', 'teams', 'sso', 'health']);
      expect(sectionsFor({ roles: 'system_user system_user_manager' }).map((s) => s.id)).to.deep.equal(['users', 'groups']);
      expect(sectionsFor({ roles: 'system_user compliance_officer' })).to.deep.equal([]);
    });

    it('opens the section a path names, and the first allowed one for the home page or a forbidden one', () => {
      const admin = sectionsFor({ roles: 'system_user system_admin' });
      const manager = sectionsFor({ roles: 'system_user system_user_manager' });
      expect(sectionOf('/health', admin)?.id).to.equal('health');
      expect(sectionOf('/groups/abc', admin)?.id).to.equal('groups');
      expect(sectionOf('/', admin)?.id).to.equal('users');
      expect(sectionOf('/health', manager)?.id, 'a manager typing an admin URL lands on users').to.equal('users');
      expect(sectionOf('/', [])).to.equal(undefined);
    });
  });

  describe('roles', () => {
    it('adds and removes roles, keeping system_user for members and dropping it for guests', () => {
      expect(withRole('system_user', 'system_admin', true)).to.equal('system_user system_admin');
      expect(withRole('system_user system_admin compliance_officer', 'system_admin', false)).to.equal('system_user compliance_officer');
      expect(withRole('system_user', 'system_guest', true)).to.equal('system_guest');
      expect(withRole('system_guest', 'system_guest', false)).to.equal('system_user');
    });

    it('never asks for a guest admin, which the server refuses', () => {
      expect(withRole('system_user system_admin', 'system_guest', true)).to.equal('system_guest');
      expect(withRole('system_guest', 'system_admin', true)).to.equal('system_user system_admin');
    });

    it('keeps roles granted by groups apart, so saving never makes them permanent', () => {
      const groups = [{ display_name: 'Legal', roles: 'compliance_officer' }, { display_name: 'Audit', roles: 'auditor compliance_officer' }];
      expect(splitRoles('system_user compliance_officer auditor system_user_manager', groups)).to.deep.equal({
        own: 'system_user system_user_manager',
        granted: { compliance_officer: ['Legal', 'Audit'], auditor: ['Audit'] },
      });
      expect(splitRoles('system_user system_admin', [])).to.deep.equal({ own: 'system_user system_admin', granted: {} });
    });

    it('names roles for people', () => {
      expect(roleLabels('system_user')).to.deep.equal(['Member']);
      expect(roleLabels('system_user system_user_manager auditor')).to.deep.equal(['User manager', 'Auditor']);
    });
  });

  it('describes directory sync runs', () => {
    expect(describeSyncRun(run({ counts: { users: 120, groups: 8, created: 3, updated: 5, deactivated: 1 } }))).to.equal('120 users and 8 groups read: 3 created, 5 updated, 1 deactivated.');
    expect(describeSyncRun(run({ counts: { users: 2, errors: 1 } }))).to.equal('2 users and 0 groups read: 0 created, 0 updated, 0 deactivated, 1 errors.');
    expect(describeSyncRun(run({ status: 'error', error: 'ldap://dir:389 cannot be reached' }))).to.equal('Failed: ldap://dir:389 cannot be reached.');
    expect(describeSyncRun(run({ status: 'abandoned' }))).to.match(/went away/);
  });

  it('finds the OpenID Connect provider in use and its issuer', () => {
    expect(oidcProvider(ssoConfig())).to.equal(undefined);
    const gitlab = oidcProvider(ssoConfig({ GitLabSettings: { Enable: true, Id: 'web', DiscoveryEndpoint: 'https://gitlab.example.com/.well-known/openid-configuration', Scope: 'openid' } }));
    expect(gitlab).to.deep.include({ service: 'GitLab', issuer: 'https://gitlab.example.com' });
  });

  it('formats uptime and knows when another page may follow', () => {
    expect(formatUptime(59)).to.equal('0 min 59 s');
    expect(formatUptime(3 * 3600 + 120)).to.equal('3 h 2 min');
    expect(formatUptime(2 * 86_400 + 5 * 3600)).to.equal('2 d 5 h');
    expect(hasNextPage(50, 50)).to.equal(true);
    expect(hasNextPage(49, 50)).to.equal(false);
  });

  describe('renders', () => {
    before(() => {
      registerTsx();
      fakeBrowserGlobals('/admin_console/users');
    });

    it('lists users with actions named after each user, none to deactivate oneself, roles only for admins', async () => {
      const { UsersTable } = await import('../../webapp/src/consoles/admin/UsersPage.tsx');
      const me: User = user('root', { roles: 'system_user system_admin' });
      const users = [me as AdminUser, user('alice', { first_name: 'Alice', last_name: 'Lee', auth_service: 'ldap' }), user('bob', { delete_at: 5 })];
      const noop = () => undefined;
      const actions = { canEditRoles: true, busy: false, onToggleActive: noop, onEditRoles: noop, onRevokeSessions: noop };
      const markup = renderToStaticMarkup(createElement(UsersTable, { users, me, actions }));
      expect(markup).to.include('aria-label="Deactivate alice"');
      expect(markup).to.include('aria-label="Activate bob"');
      expect(markup).not.to.include('Deactivate root');
      expect(markup).to.include('aria-label="Revoke sessions of alice"');
      expect(markup).not.to.include('Revoke sessions of bob');
      expect(markup).to.include('Alice Lee');
      expect(markup).to.include('@alice · LDAP');
      expect(markup).to.include('Deactivated');
      expect(markup).to.include('<th scope="col">Email</th>');

      const managerView = renderToStaticMarkup(createElement(UsersTable, { users, me, actions: { ...actions, canEditRoles: false } }));
      expect(managerView).not.to.include('Roles of alice');
      expect(renderToStaticMarkup(createElement(UsersTable, { users: [], me, actions }))).to.include('No users match.');
    });

    it('shows the held roles as ticked boxes', async () => {
      const { RoleEditor } = await import('../../webapp/src/consoles/admin/UsersPage.tsx');
      const markup = renderToStaticMarkup(createElement(RoleEditor, { roles: 'system_user compliance_officer', onChange: () => undefined }));
      expect(markup).to.match(/<input type="checkbox" checked=""\/>Compliance officer/);
      expect(markup).to.match(/<input type="checkbox"\/>System admin/);
      expect(markup).to.include('<legend>System roles</legend>');
      const fromGroup = renderToStaticMarkup(createElement(RoleEditor, { roles: 'system_user', granted: { auditor: ['Audit'] }, onChange: () => undefined }));
      expect(fromGroup).to.include('<input type="checkbox" disabled="" checked=""/>Auditor<span class="muted"> (from Audit)</span>');
    });

    it('shows the last directory sync result and the earlier runs', async () => {
      const { SyncSummary } = await import('../../webapp/src/consoles/admin/DirectorySync.tsx');
      const status: SyncStatus = {
        running: false, last_success_at: 0, sync_interval_minutes: 0,
        runs: [run({ id: 'r2', status: 'error', error: 'bind refused' }), run({ id: 'r1', counts: { users: 4 } })],
      };
      const markup = renderToStaticMarkup(createElement(SyncSummary, { status }));
      expect(markup).to.include('(manual): Failed: bind refused.');
      expect(markup).to.include('On demand only');
      expect(markup).to.include('<summary>Earlier runs</summary>');
      expect(markup).to.include('4 users and 0 groups read');
      expect(renderToStaticMarkup(createElement(SyncSummary, { status: { ...status, runs: [] } }))).to.include('No sync has run yet.');
    });

    it('shows SSO status with the metadata download and the OIDC issuer', async () => {
      const { SsoStatus } = await import('../../webapp/src/consoles/admin/SsoPage.tsx');
      const config = ssoConfig({
        SamlSettings: { ...ssoConfig().SamlSettings, Enable: true },
        OpenIdSettings: { Enable: true, Id: 'custodian', DiscoveryEndpoint: 'https://id.example.com/realms/corp/.well-known/openid-configuration', Scope: 'openid email' },
      });
      const markup = renderToStaticMarkup(createElement(SsoStatus, { config }));
      expect(markup).to.include('href="/api/v4/saml/metadata"');
      expect(markup).to.include('https://id.example.com/realms/corp</code>');
      expect(markup).to.match(/LDAP \/ Active Directory (<!-- -->)?<span class="admin-badge off">Disabled/);
      expect(renderToStaticMarkup(createElement(SsoStatus, { config: ssoConfig() }))).not.to.include('saml/metadata');
    });

    it('offers archive for active teams and channels and restore for archived ones', async () => {
      const { TeamsTable, ChannelsTable } = await import('../../webapp/src/consoles/admin/TeamsPage.tsx');
      const teams: AdminTeam[] = [
        { id: 't1', name: 'sales', display_name: 'Sales', type: 'O', delete_at: 0 },
        { id: 't2', name: 'old', display_name: 'Old', type: 'I', delete_at: 9, group_constrained: true },
      ];
      const noop = () => undefined;
      const markup = renderToStaticMarkup(createElement(TeamsTable, { teams, busy: false, onArchive: noop, onRestore: noop }));
      expect(markup).to.include('aria-label="Archive team Sales"');
      expect(markup).to.include('aria-label="Restore team Old"');
      expect(markup).to.include('Invite only, linked groups only');
      const channels: AdminChannel[] = [{ id: 'c1', team_id: 't1', type: 'P', name: 'deals', display_name: 'Deals', delete_at: 3, team_display_name: 'Sales', team_name: 'sales' }];
      const channelMarkup = renderToStaticMarkup(createElement(ChannelsTable, { channels, busy: false, onArchive: noop, onRestore: noop }));
      expect(channelMarkup).to.include('aria-label="Restore channel Deals"');
      expect(channelMarkup).to.include('>Private<');
    });

    it('lists groups with a links toggle, except custom groups, which can never be linked', async () => {
      const { GroupsTable } = await import('../../webapp/src/consoles/admin/GroupsPage.tsx');
      const groups = [
        { id: 'g1', display_name: 'Engineering', name: 'eng', description: '', source: 'ldap' as const, remote_id: 'x', member_count: 12, roles: 'compliance_officer' },
        { id: 'g2', display_name: 'Lunch club', name: 'lunch', description: '', source: 'custom' as const, remote_id: null, member_count: 3, roles: '' },
      ];
      const markup = renderToStaticMarkup(createElement(GroupsTable, { groups, open: 'g1', onToggle: () => undefined }));
      expect(markup).to.include('aria-expanded="true" aria-controls="links-g1"');
      expect(markup).to.include('Hide links');
      expect(markup).to.include('grants compliance_officer');
      expect(markup).not.to.include('aria-controls="links-g2"');
      expect(markup).to.include('Mentions only');
      expect(renderToStaticMarkup(createElement(GroupsTable, { groups: [], onToggle: () => undefined }))).to.include('No groups yet.');
    });

    it('shows server health and jobs', async () => {
      const { ServerFacts, JobsTable } = await import('../../webapp/src/consoles/admin/HealthPage.tsx');
      const facts = renderToStaticMarkup(createElement(ServerFacts, {
        status: { status: 'OK', database_status: 'OK', version: '0.1.0', node_id: 'node-a', uptime_seconds: 7260 },
        schema: { schema_version: '20261122000604_ediscovery_cases', migrations: ['a', 'b'] },
      }));
      expect(facts).to.include('Healthy');
      expect(facts).to.include('2 h 1 min');
      expect(facts).to.include('20261122000604_ediscovery_cases');
      expect(renderToStaticMarkup(createElement(ServerFacts, { status: { status: 'UNHEALTHY', database_status: 'UNHEALTHY' } }))).to.include('Not answering');
      const jobs = renderToStaticMarkup(createElement(JobsTable, { jobs: [{ id: 'j', type: 'message_export', status: 'in_progress', progress: 40, create_at: 1, start_at: 1, last_activity_at: 1 }] }));
      expect(jobs).to.include('message export');
      expect(jobs).to.include('<progress max="100" value="40"');
    });
  });
});
