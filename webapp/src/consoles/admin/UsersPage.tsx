// Users: list and search with paging, create, deactivate/activate, roles, revoke sessions.
import { useEffect, useState, type FormEvent } from 'react';
import type { User } from '../../api/types.ts';
import { adminApi, type AdminUser, type UserQuery } from './api.ts';
import { ASSIGNABLE_ROLES, displayName, hasNextPage, roleLabels, roleList, splitRoles, withRole } from './logic.ts';
import { AdminTable, ConfirmDialog, LoadError, Pager, useAction, useLoad, useSettled, useStatusLine, type Confirmation } from './ui.tsx';

const PER_PAGE = 50;

export interface UserActions {
  /** Whether the viewer may change roles (system admins only). */
  canEditRoles: boolean;
  busy: boolean;
  onToggleActive(user: AdminUser): void;
  onEditRoles(user: AdminUser): void;
  onRevokeSessions(user: AdminUser): void;
}

/**
 * The table of users; each action button names its user for screen readers. While an action runs the
 * buttons are only marked busy, not disabled: disabling the focused button would drop keyboard focus.
 */
export function UsersTable({ users, me, actions }: { users: AdminUser[]; me: User; actions: UserActions }) {
  if (users.length === 0) return <p className="admin-empty">No users match.</p>;
  const when = (action: (u: AdminUser) => void, u: AdminUser) => () => {
    if (!actions.busy) action(u);
  };
  const busy = actions.busy || undefined;
  return (
    <AdminTable caption="Users" columns={['Name', 'Email', 'Roles', 'Status']}>
      {users.map((u) => {
        const active = u.delete_at === 0;
        const self = u.id === me.id;
        return (
          <tr key={u.id} data-username={u.username} className={active ? undefined : 'inactive'}>
            <th scope="row" data-label="Name">
              <span className="admin-name">{displayName(u)}</span>
              <span className="muted">{[displayName(u) !== `@${u.username}` ? ` @${u.username}` : '', u.auth_service ? ` · ${u.auth_service.toUpperCase()}` : '', u.is_bot ? ' · bot' : ''].join('')}</span>
            </th>
            <td data-label="Email">{u.email ?? ''}</td>
            <td data-label="Roles">{roleLabels(u.roles).join(', ')}</td>
            <td data-label="Status">
              <span className={`admin-badge ${active ? 'ok' : 'off'}`}>{active ? 'Active' : 'Deactivated'}</span>
            </td>
            <td className="admin-actions">
              {!self && (
                <button type="button" className={active ? 'danger' : undefined} aria-disabled={busy} aria-label={`${active ? 'Deactivate' : 'Activate'} ${u.username}`} onClick={when(actions.onToggleActive, u)}>
                  {active ? 'Deactivate' : 'Activate'}
                </button>
              )}
              {actions.canEditRoles && !u.is_bot && (
                <button type="button" aria-disabled={busy} aria-label={`Roles of ${u.username}`} onClick={when(actions.onEditRoles, u)}>
                  Roles
                </button>
              )}
              {active && (
                <button type="button" aria-disabled={busy} aria-label={`Revoke sessions of ${u.username}`} onClick={when(actions.onRevokeSessions, u)}>
                  Revoke sessions
                </button>
              )}
            </td>
          </tr>
        );
      })}
    </AdminTable>
  );
}

/**
 * Role checkboxes; the result is what `PUT /users/{id}/roles` receives. Roles a group grants are shown
 * ticked and locked: they come and go with the group.
 */
export function RoleEditor({ roles, granted = {}, onChange }: { roles: string; granted?: Record<string, string[]>; onChange(roles: string): void }) {
  const held = roleList(roles);
  return (
    <fieldset className="admin-roles">
      <legend>System roles</legend>
      {ASSIGNABLE_ROLES.map((r) => {
        const from = granted[r.role];
        return (
          <label key={r.role}>
            <input type="checkbox" checked={!!from || held.includes(r.role)} disabled={!!from} onChange={(e) => onChange(withRole(roles, r.role, e.target.checked))} />
            {r.label}
            {from && <span className="muted"> (from {from.join(', ')})</span>}
          </label>
        );
      })}
    </fieldset>
  );
}

/** Loads the user's groups first, so the editor starts from the roles that are the user's own. */
function RolesBody({ user, onChange }: { user: AdminUser; onChange(roles: string): void }) {
  const groups = useLoad(() => adminApi.userGroups(user.id), user.id);
  const [roles, setRoles] = useState<string>();
  const split = groups.data ? splitRoles(user.roles, groups.data) : undefined;
  useEffect(() => {
    if (split && roles === undefined) {
      setRoles(split.own);
      onChange(split.own);
    }
  }, [split, roles, onChange]);
  if (groups.error) return <p className="admin-error" role="alert">{groups.error}</p>;
  if (!split || roles === undefined) return <p role="status">Loading roles…</p>;
  return (
    <RoleEditor
      roles={roles}
      granted={split.granted}
      onChange={(next) => {
        setRoles(next);
        onChange(next);
      }}
    />
  );
}

function CreateUserForm({ onCreated, onCancel }: { onCreated(user: AdminUser): void; onCancel(): void }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const field = (name: string) => String(form.get(name) ?? '').trim();
    setBusy(true);
    setError('');
    try {
      onCreated(await adminApi.createUser({ username: field('username'), email: field('email'), password: String(form.get('password') ?? ''), first_name: field('first_name'), last_name: field('last_name') }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="admin-form" aria-labelledby="create-user-title" onSubmit={(e) => void submit(e)}>
      <h2 id="create-user-title">New user</h2>
      <label>Username<input name="username" required autoComplete="off" pattern="[a-z0-9._\-]{3,22}" title="3 to 22 lowercase letters, digits, dots, dashes or underscores" autoFocus /></label>
      <label>Email<input name="email" type="email" required autoComplete="off" /></label>
      <label>First name<input name="first_name" autoComplete="off" /></label>
      <label>Last name<input name="last_name" autoComplete="off" /></label>
      <label>Password<input name="password" type="password" required autoComplete="new-password" /></label>
      {error && <p className="admin-error" role="alert">{error}</p>}
      <div className="admin-form-actions">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={busy}>Create user</button>
      </div>
    </form>
  );
}

export default function UsersPage({ me, canEditRoles }: { me: User; canEditRoles: boolean }) {
  const [term, setTerm] = useState('');
  const [status, setStatus] = useState<UserQuery['status']>('all');
  const [page, setPage] = useState(0);
  const [creating, setCreating] = useState(false);
  const [confirmation, setConfirmation] = useState<Confirmation>();
  const settled = useSettled(term);
  const query: UserQuery = { page, perPage: PER_PAGE, term: settled, status };
  const users = useLoad(() => adminApi.users(query), JSON.stringify(query));
  const { line, report } = useStatusLine();
  const { busy, run } = useAction(report);

  const act = async (action: () => Promise<unknown>, success: string) => {
    if (await run(action, success)) users.reload();
  };
  const actions: UserActions = {
    canEditRoles,
    busy,
    onToggleActive: (u) => {
      const activate = u.delete_at > 0;
      if (activate) return void act(() => adminApi.setActive(u.id, true), `@${u.username} can sign in again.`);
      setConfirmation({
        title: `Deactivate @${u.username}?`,
        body: <p>They are signed out everywhere at once and cannot sign in until activated again. Their messages stay.</p>,
        confirmLabel: 'Deactivate',
        danger: true,
        onConfirm: () => void act(() => adminApi.setActive(u.id, false), `@${u.username} is deactivated and signed out.`),
      });
    },
    onEditRoles: (u) => {
      // Set once the user's own roles are known; saving before that changes nothing.
      let roles: string | undefined;
      setConfirmation({
        title: `Roles of @${u.username}`,
        body: <RolesBody user={u} onChange={(next) => (roles = next)} />,
        confirmLabel: 'Save roles',
        onConfirm: () => {
          if (roles !== undefined) void act(() => adminApi.setRoles(u.id, roles!), `Roles of @${u.username} saved.`);
        },
      });
    },
    onRevokeSessions: (u) => {
      setConfirmation({
        title: `Sign @${u.username} out everywhere?`,
        body: <p>Every session of this user ends now, in browsers and apps. They can sign in again.</p>,
        confirmLabel: 'Revoke sessions',
        danger: true,
        onConfirm: () => void act(() => adminApi.revokeSessions(u.id), `Every session of @${u.username} was revoked.`),
      });
    },
  };

  return (
    <>
      <div className="admin-toolbar" role="search">
        <label>
          <span className="visually-hidden">Search users</span>
          <input type="search" placeholder="Search by name, username or email" value={term} onChange={(e) => { setTerm(e.target.value); setPage(0); }} aria-label="Search users" />
        </label>
        <label>
          Show
          <select value={status} onChange={(e) => { setStatus(e.target.value as UserQuery['status']); setPage(0); }}>
            <option value="all">All users</option>
            <option value="active">Active</option>
            <option value="inactive">Deactivated</option>
          </select>
        </label>
        <button type="button" className="primary" aria-expanded={creating} onClick={() => setCreating((c) => !c)}>Create user</button>
      </div>
      {creating && (
        <CreateUserForm
          onCancel={() => setCreating(false)}
          onCreated={(u) => {
            setCreating(false);
            report(`@${u.username} was created.`);
            users.reload();
          }}
        />
      )}
      {line}
      <LoadError error={users.error} onRetry={users.reload} />
      {users.data && <UsersTable users={users.data} me={me} actions={actions} />}
      {users.loading && !users.data && <p className="admin-empty" role="status">Loading users…</p>}
      {!settled.trim() && users.data && <Pager page={page} hasNext={hasNextPage(users.data.length, PER_PAGE)} onPage={setPage} label="Pages of users" />}
      {settled.trim() && users.data && users.data.length >= 100 && <p className="muted">Showing the first 100 matches; type more to narrow them down.</p>}
      <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(undefined)} />
    </>
  );
}
