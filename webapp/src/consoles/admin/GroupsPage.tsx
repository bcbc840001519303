// Groups: the list, each group's links to teams and channels (which add its members, and can make
// the team or channel group-constrained), and LDAP directory sync for system admins.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { adminApi, type AdminChannel, type AdminTeam, type Group, type SyncableKind } from './api.ts';
import { DirectorySync } from './DirectorySync.tsx';
import { hasNextPage } from './logic.ts';
import { AdminTable, LoadError, Pager, useAction, useLoad, useSettled, useStatusLine } from './ui.tsx';

const PER_PAGE = 50;
const SOURCES: Record<Group['source'], string> = { ldap: 'LDAP', saml: 'SAML', oidc: 'OpenID Connect', custom: 'Custom' };

interface Link {
  kind: SyncableKind;
  id: string;
  name: string;
  autoAdd: boolean;
  constrained: boolean;
}

async function loadLinks(groupId: string): Promise<Link[]> {
  const [teams, channels] = await Promise.all([adminApi.groupSyncables(groupId, 'team'), adminApi.groupSyncables(groupId, 'channel')]);
  const named = await Promise.all([
    ...teams.map(async (s) => {
      const t = await adminApi.team(s.team_id!);
      return { kind: 'team' as const, id: t.id, name: t.display_name, autoAdd: s.auto_add, constrained: !!t.group_constrained };
    }),
    ...channels.map(async (s) => {
      const c = await adminApi.channel(s.channel_id!);
      return { kind: 'channel' as const, id: c.id, name: `~${c.display_name}`, autoAdd: s.auto_add, constrained: !!c.group_constrained };
    }),
  ]);
  return named.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

function AddLinkForm({ group, canListChannels, onLink }: { group: Group; canListChannels: boolean; onLink(kind: SyncableKind, id: string, autoAdd: boolean): void }) {
  const [kind, setKind] = useState<SyncableKind>('team');
  const [teamId, setTeamId] = useState('');
  const teams = useLoad(() => adminApi.teams(false), 'teams');
  const channels = useLoad<AdminChannel[]>(() => (kind === 'channel' && teamId ? adminApi.channels({ page: 0, perPage: 200, includeDeleted: false, teamId }) : Promise.resolve([])), `${kind}:${teamId}`);
  const id = useId();
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const target = kind === 'team' ? teamId : String(form.get('channel') ?? '');
    if (target) onLink(kind, target, form.get('auto_add') === 'on');
  };
  return (
    <form className="admin-form inline" onSubmit={submit} aria-label={`Link ${group.display_name} to a team or channel`}>
      {canListChannels && (
        <fieldset className="admin-radios">
          <legend>Link to</legend>
          <label><input type="radio" name="kind" checked={kind === 'team'} onChange={() => setKind('team')} /> A team</label>
          <label><input type="radio" name="kind" checked={kind === 'channel'} onChange={() => setKind('channel')} /> A channel</label>
        </fieldset>
      )}
      <label htmlFor={`${id}-team`}>Team</label>
      <select id={`${id}-team`} value={teamId} onChange={(e) => setTeamId(e.target.value)} required>
        <option value="">Choose a team</option>
        {(teams.data ?? []).map((t: AdminTeam) => <option key={t.id} value={t.id}>{t.display_name}</option>)}
      </select>
      {kind === 'channel' && (
        <>
          <label htmlFor={`${id}-channel`}>Channel</label>
          <select id={`${id}-channel`} name="channel" required disabled={!teamId}>
            <option value="">Choose a channel</option>
            {(channels.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.display_name}{c.type === 'P' ? ' (private)' : ''}</option>)}
          </select>
        </>
      )}
      <label className="check"><input type="checkbox" name="auto_add" defaultChecked /> Add the group’s members automatically</label>
      <button type="submit" className="primary">Link</button>
    </form>
  );
}

/**
 * The group-constrained switch of one linked team or channel: it shows the new state at once and
 * goes back if the server refuses.
 */
function ConstrainedSwitch({ link, onChange }: { link: Link; onChange(on: boolean): Promise<boolean> }) {
  const [checked, setChecked] = useState(link.constrained);
  useEffect(() => setChecked(link.constrained), [link.constrained]);
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={checked}
        onChange={async (e) => {
          const on = e.target.checked;
          setChecked(on);
          if (!(await onChange(on))) setChecked(!on);
        }}
      />
      Only members of linked groups
    </label>
  );
}

/** What a group is linked to, with unlink and the group-constrained switch of each team or channel. */
function GroupLinks({ group, canListChannels }: { group: Group; canListChannels: boolean }) {
  const links = useLoad(() => loadLinks(group.id), group.id);
  const { line, report } = useStatusLine();
  const { busy, run } = useAction(report);
  const act = async (action: () => Promise<unknown>, success: string): Promise<boolean> => {
    const done = await run(action, success);
    if (done) links.reload();
    return done;
  };
  return (
    <div className="admin-links">
      {line}
      <LoadError error={links.error} onRetry={links.reload} />
      {links.data && links.data.length === 0 && <p className="admin-empty">Not linked to any team or channel.</p>}
      {links.data && links.data.length > 0 && (
        <ul className="admin-list">
          {links.data.map((l) => (
            <li key={`${l.kind}:${l.id}`}>
              <span>{l.kind === 'team' ? 'Team' : 'Channel'} <strong>{l.name}</strong>{l.autoAdd ? ' · adds members' : ''}</span>
              <ConstrainedSwitch
                link={l}
                onChange={(on) => act(() => adminApi.setConstrained(l.kind, l.id, on), on ? `${l.name} now keeps only members of its linked groups.` : `${l.name} is open to others again.`)}
              />
              <button type="button" disabled={busy} aria-label={`Unlink ${l.name}`} onClick={() => void act(() => adminApi.unlink(group.id, l.kind, l.id), `${group.display_name} unlinked from ${l.name}.`)}>Unlink</button>
            </li>
          ))}
        </ul>
      )}
      <AddLinkForm group={group} canListChannels={canListChannels} onLink={(kind, id, autoAdd) => void act(() => adminApi.link(group.id, kind, id, autoAdd), `${group.display_name} linked; its members were added.`)} />
    </div>
  );
}

export function GroupsTable({ groups, open, onToggle }: { groups: Group[]; open?: string; onToggle(id: string): void }) {
  if (groups.length === 0) return <p className="admin-empty">No groups yet. Groups come from the directory (LDAP), from SAML or OpenID Connect sign-ins, or are made through the API.</p>;
  return (
    <AdminTable caption="Groups" columns={['Group', 'Source', 'Members']}>
      {groups.map((g) => (
        <tr key={g.id}>
          <th scope="row" data-label="Group">{g.display_name}{g.roles ? <span className="muted"> · grants {g.roles.split(' ').join(', ')}</span> : null}</th>
          <td data-label="Source">{SOURCES[g.source] ?? g.source}</td>
          <td data-label="Members">{g.member_count ?? 0}</td>
          <td className="admin-actions">
            {g.source === 'custom' ? (
              // Anyone may fill a custom group, so the server never lets one add members to a team or channel.
              <span className="muted">Mentions only</span>
            ) : (
              <button type="button" aria-expanded={open === g.id} aria-controls={`links-${g.id}`} onClick={() => onToggle(g.id)}>
                {open === g.id ? 'Hide links' : 'Links'}<span className="visually-hidden"> of {g.display_name}</span>
              </button>
            )}
          </td>
        </tr>
      ))}
    </AdminTable>
  );
}

export default function GroupsPage({ isAdmin }: { isAdmin: boolean }) {
  const [term, setTerm] = useState('');
  const [page, setPage] = useState(0);
  const [open, setOpen] = useState<string>();
  const settled = useSettled(term);
  const groups = useLoad(() => adminApi.groups(page, PER_PAGE, settled), `${page}:${settled}`);
  const ldapOn = useLoad(() => (isAdmin ? adminApi.ssoConfig().then((c) => c.LdapSettings.Enable) : Promise.resolve(false)), 'sso');
  const openGroup = groups.data?.find((g) => g.id === open);
  return (
    <>
      {ldapOn.data && <DirectorySync onGroupsChanged={groups.reload} />}
      <section aria-labelledby="groups-list-title">
        <h2 id="groups-list-title">Groups</h2>
        <div className="admin-toolbar" role="search">
          <input type="search" aria-label="Search groups" placeholder="Search groups" value={term} onChange={(e) => { setTerm(e.target.value); setPage(0); }} />
        </div>
        <LoadError error={groups.error} onRetry={groups.reload} />
        {groups.data && <GroupsTable groups={groups.data} open={open} onToggle={(id) => setOpen((o) => (o === id ? undefined : id))} />}
        {groups.data && <Pager page={page} hasNext={hasNextPage(groups.data.length, PER_PAGE)} onPage={setPage} label="Pages of groups" />}
        {openGroup && (
          <section id={`links-${openGroup.id}`} className="admin-card" aria-labelledby="group-links-title">
            <h3 id="group-links-title">Links of {openGroup.display_name}</h3>
            <GroupLinks key={openGroup.id} group={openGroup} canListChannels={isAdmin} />
          </section>
        )}
      </section>
    </>
  );
}
