// LDAP directory sync: "Sync now", the last result and the recent runs, and the directory's groups
// that can be brought in as Custodian groups.
import { useState } from 'react';
import { adminApi, type DirectoryGroup, type SyncStatus } from './api.ts';
import { describeSyncRun, formatTime } from './logic.ts';
import { LoadError, useAction, useLoad, useStatusLine } from './ui.tsx';

/** The last sync result and the recent runs, newest first. */
export function SyncSummary({ status }: { status: SyncStatus }) {
  const [last, ...earlier] = status.runs;
  return (
    <div className="admin-sync">
      <dl className="admin-facts">
        <dt>Last result</dt>
        <dd data-testid="last-sync">{last ? `${formatTime(last.start_at)} (${last.trigger}): ${describeSyncRun(last)}` : 'No sync has run yet.'}</dd>
        <dt>Last success</dt>
        <dd>{formatTime(status.last_success_at)}</dd>
        <dt>Schedule</dt>
        <dd>{status.sync_interval_minutes > 0 ? `Every ${status.sync_interval_minutes} minutes` : 'On demand only'}</dd>
      </dl>
      {earlier.length > 0 && (
        <details>
          <summary>Earlier runs</summary>
          <ul className="admin-runs">
            {earlier.map((r) => (
              <li key={r.id}>
                <span className={`admin-badge ${r.status === 'success' ? 'ok' : r.status === 'error' || r.status === 'abandoned' ? 'bad' : 'off'}`}>{r.status}</span> {formatTime(r.start_at)} ({r.trigger}, {r.node_id}): {describeSyncRun(r)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function DirectoryGroups({ onLinked }: { onLinked(): void }) {
  const groups = useLoad(() => adminApi.directoryGroups(), 'directory');
  const { line, report } = useStatusLine();
  const { busy, run } = useAction(report);
  const link = async (g: DirectoryGroup) => {
    if (await run(() => adminApi.linkDirectoryGroup(g.primary_key), `${g.name} is now a Custodian group.`)) {
      groups.reload();
      onLinked();
    }
  };
  return (
    <section aria-labelledby="directory-groups-title">
      <h3 id="directory-groups-title">Directory groups</h3>
      {line}
      <LoadError error={groups.error} onRetry={groups.reload} />
      {groups.data && groups.data.groups.length === 0 && <p className="admin-empty">The directory has no groups matching the group filter.</p>}
      {groups.data && groups.data.groups.length > 0 && (
        <ul className="admin-list">
          {groups.data.groups.map((g) => (
            <li key={g.primary_key}>
              <span>{g.name}</span>
              {g.mattermost_group_id ? (
                <span className="admin-badge ok">Linked</span>
              ) : (
                <button type="button" disabled={busy} aria-label={`Link directory group ${g.name}`} onClick={() => void link(g)}>Link</button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function DirectorySync({ onGroupsChanged }: { onGroupsChanged(): void }) {
  const status = useLoad(() => adminApi.syncStatus(), 'sync');
  const [syncing, setSyncing] = useState(false);
  const { line, report } = useStatusLine();
  const syncNow = async () => {
    setSyncing(true);
    report('Syncing with the directory…');
    try {
      const res = await adminApi.syncNow();
      report(res.running ? 'The sync goes on in the background; refresh for its result.' : 'Sync finished.');
    } catch (err) {
      report(`Sync failed: ${(err as Error).message}`, true);
    } finally {
      setSyncing(false);
      status.reload();
      onGroupsChanged();
    }
  };
  return (
    <section className="admin-card" aria-labelledby="ldap-sync-title">
      <h2 id="ldap-sync-title">LDAP directory sync</h2>
      <div className="admin-toolbar">
        <button type="button" className="primary" disabled={syncing || status.data?.running} onClick={() => void syncNow()}>
          {syncing || status.data?.running ? 'Syncing…' : 'Sync now'}
        </button>
        <button type="button" onClick={status.reload}>Refresh</button>
      </div>
      {line}
      <LoadError error={status.error} onRetry={status.reload} />
      {status.data && <SyncSummary status={status.data} />}
      <DirectoryGroups onLinked={onGroupsChanged} />
    </section>
  );
}
