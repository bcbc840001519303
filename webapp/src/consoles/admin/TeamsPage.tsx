// Teams and channels: every team and channel (archived ones too), archive and restore.
import { useState } from 'react';
import { adminApi, type AdminChannel, type AdminTeam } from './api.ts';
import { hasNextPage } from './logic.ts';
import { AdminTable, ConfirmDialog, LoadError, Pager, useAction, useLoad, useStatusLine, type Confirmation } from './ui.tsx';

const PER_PAGE = 50;

interface Archivable {
  id: string;
  display_name: string;
  delete_at: number;
}

function ArchiveButton({ item, what, busy, onArchive, onRestore }: { item: Archivable; what: string; busy: boolean; onArchive(): void; onRestore(): void }) {
  return item.delete_at > 0 ? (
    <button type="button" disabled={busy} aria-label={`Restore ${what} ${item.display_name}`} onClick={onRestore}>Restore</button>
  ) : (
    <button type="button" className="danger" disabled={busy} aria-label={`Archive ${what} ${item.display_name}`} onClick={onArchive}>Archive</button>
  );
}

function StatusCell({ item }: { item: Archivable }) {
  return <td data-label="Status"><span className={`admin-badge ${item.delete_at > 0 ? 'off' : 'ok'}`}>{item.delete_at > 0 ? 'Archived' : 'Active'}</span></td>;
}

export function TeamsTable({ teams, busy, onArchive, onRestore }: { teams: AdminTeam[]; busy: boolean; onArchive(t: AdminTeam): void; onRestore(t: AdminTeam): void }) {
  if (teams.length === 0) return <p className="admin-empty">No teams yet.</p>;
  return (
    <AdminTable caption="Teams" columns={['Team', 'Access', 'Status']}>
      {teams.map((t) => (
        <tr key={t.id} className={t.delete_at > 0 ? 'inactive' : undefined}>
          <th scope="row" data-label="Team">{t.display_name} <span className="muted">/{t.name}</span></th>
          <td data-label="Access">{t.type === 'O' ? 'Open' : 'Invite only'}{t.group_constrained ? ', linked groups only' : ''}</td>
          <StatusCell item={t} />
          <td className="admin-actions"><ArchiveButton item={t} what="team" busy={busy} onArchive={() => onArchive(t)} onRestore={() => onRestore(t)} /></td>
        </tr>
      ))}
    </AdminTable>
  );
}

export function ChannelsTable({ channels, busy, onArchive, onRestore }: { channels: AdminChannel[]; busy: boolean; onArchive(c: AdminChannel): void; onRestore(c: AdminChannel): void }) {
  if (channels.length === 0) return <p className="admin-empty">No channels here.</p>;
  return (
    <AdminTable caption="Channels" columns={['Channel', 'Team', 'Type', 'Status']}>
      {channels.map((c) => (
        <tr key={c.id} className={c.delete_at > 0 ? 'inactive' : undefined}>
          <th scope="row" data-label="Channel">{c.display_name} <span className="muted">~{c.name}</span></th>
          <td data-label="Team">{c.team_display_name}</td>
          <td data-label="Type">{c.type === 'P' ? 'Private' : 'Public'}{c.group_constrained ? ', linked groups only' : ''}</td>
          <StatusCell item={c} />
          <td className="admin-actions"><ArchiveButton item={c} what="channel" busy={busy} onArchive={() => onArchive(c)} onRestore={() => onRestore(c)} /></td>
        </tr>
      ))}
    </AdminTable>
  );
}

export default function TeamsPage() {
  const teams = useLoad(() => adminApi.teams(true), 'teams');
  const [teamId, setTeamId] = useState('');
  const [archived, setArchived] = useState(false);
  const [page, setPage] = useState(0);
  const channelQuery = { page, perPage: PER_PAGE, includeDeleted: archived, teamId: teamId || undefined };
  const channels = useLoad(() => adminApi.channels(channelQuery), JSON.stringify(channelQuery));
  const [confirmation, setConfirmation] = useState<Confirmation>();
  const { line, report } = useStatusLine();
  const { busy, run } = useAction(report);
  const act = async (action: () => Promise<unknown>, success: string) => {
    if (await run(action, success)) {
      teams.reload();
      channels.reload();
    }
  };
  const confirmArchive = (what: string, name: string, archive: () => Promise<unknown>) =>
    setConfirmation({
      title: `Archive ${what} ${name}?`,
      body: <p>Members can no longer post in it. Its messages are kept (retention and legal holds still apply) and it can be restored.</p>,
      confirmLabel: 'Archive',
      danger: true,
      onConfirm: () => void act(archive, `${name} is archived.`),
    });

  return (
    <>
      {line}
      <section aria-labelledby="teams-title">
        <h2 id="teams-title">Teams</h2>
        <LoadError error={teams.error} onRetry={teams.reload} />
        {teams.data && (
          <TeamsTable
            teams={teams.data}
            busy={busy}
            onArchive={(t) => confirmArchive('team', t.display_name, () => adminApi.archiveTeam(t.id))}
            onRestore={(t) => void act(() => adminApi.restoreTeam(t.id), `${t.display_name} is restored.`)}
          />
        )}
      </section>
      <section aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        <div className="admin-toolbar">
          <label>
            Team
            <select value={teamId} onChange={(e) => { setTeamId(e.target.value); setPage(0); }}>
              <option value="">All teams</option>
              {(teams.data ?? []).map((t) => <option key={t.id} value={t.id}>{t.display_name}</option>)}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={archived} onChange={(e) => { setArchived(e.target.checked); setPage(0); }} /> Include archived channels
          </label>
        </div>
        <LoadError error={channels.error} onRetry={channels.reload} />
        {channels.data && (
          <ChannelsTable
            channels={channels.data}
            busy={busy}
            onArchive={(c) => confirmArchive('channel', c.display_name, () => adminApi.archiveChannel(c.id))}
            onRestore={(c) => void act(() => adminApi.restoreChannel(c.id), `${c.display_name} is restored.`)}
          />
        )}
        {channels.data && <Pager page={page} hasNext={hasNextPage(channels.data.length, PER_PAGE)} onPage={setPage} label="Pages of channels" />}
      </section>
      <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(undefined)} />
    </>
  );
}
