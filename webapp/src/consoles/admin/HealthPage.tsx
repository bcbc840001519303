// Server health: the answering node, its database, version and schema, and the recent jobs.
import { adminApi, type Job, type ServerStatus } from './api.ts';
import { formatTime, formatUptime } from './logic.ts';
import { AdminTable, LoadError, useLoad } from './ui.tsx';

export function ServerFacts({ status, schema }: { status: ServerStatus; schema?: { schema_version: string; migrations: string[] } }) {
  const ok = status.status === 'OK';
  return (
    <dl className="admin-facts">
      <dt>Status</dt><dd><span className={`admin-badge ${ok ? 'ok' : 'bad'}`}>{ok ? 'Healthy' : 'Unhealthy'}</span></dd>
      <dt>Database</dt><dd><span className={`admin-badge ${status.database_status === 'OK' ? 'ok' : 'bad'}`}>{status.database_status === 'OK' ? 'Answering' : 'Not answering'}</span></dd>
      <dt>Version</dt><dd>{status.version ?? '—'}</dd>
      <dt>Node</dt><dd><code>{status.node_id ?? '—'}</code></dd>
      <dt>Up for</dt><dd>{status.uptime_seconds !== undefined ? formatUptime(status.uptime_seconds) : '—'}</dd>
      {schema && (
        <>
          <dt>Database schema</dt>
          <dd><code>{schema.schema_version}</code> ({schema.migrations.length} migrations, all applied at start)</dd>
        </>
      )}
    </dl>
  );
}

export function JobsTable({ jobs }: { jobs: Job[] }) {
  if (jobs.length === 0) return <p className="admin-empty">No jobs have run yet.</p>;
  return (
    <AdminTable caption="Recent jobs" columns={['Job', 'Status', 'Created', 'Last activity']} actions={false}>
      {jobs.map((j) => (
        <tr key={j.id}>
          <th scope="row" data-label="Job">{j.type.replace(/_/g, ' ')}</th>
          <td data-label="Status">
            <span className={`admin-badge ${j.status === 'success' ? 'ok' : j.status === 'error' ? 'bad' : 'off'}`}>{j.status.replace(/_/g, ' ')}</span>
            {j.status === 'in_progress' && <progress max={100} value={j.progress} aria-label={`${j.type} progress`}>{j.progress}%</progress>}
          </td>
          <td data-label="Created">{formatTime(j.create_at)}</td>
          <td data-label="Last activity">{formatTime(j.last_activity_at)}</td>
        </tr>
      ))}
    </AdminTable>
  );
}

export default function HealthPage() {
  const status = useLoad(() => adminApi.ping(), 'ping');
  const schema = useLoad(() => adminApi.migrations(), 'migrations');
  const jobs = useLoad(() => adminApi.jobs(), 'jobs');
  const refresh = () => {
    status.reload();
    schema.reload();
    jobs.reload();
  };
  return (
    <>
      <div className="admin-toolbar"><button type="button" onClick={refresh}>Refresh</button></div>
      <section className="admin-card" aria-labelledby="health-server-title">
        <h2 id="health-server-title">This server</h2>
        <LoadError error={status.error} onRetry={status.reload} />
        {status.data && <ServerFacts status={status.data} schema={schema.data} />}
        <p className="muted">Every node of a cluster answers for itself; the load balancer’s health check is <code>GET /api/v4/system/ping</code>.</p>
      </section>
      <section aria-labelledby="health-jobs-title">
        <h2 id="health-jobs-title">Recent jobs</h2>
        <LoadError error={jobs.error} onRetry={jobs.reload} />
        {jobs.data && <JobsTable jobs={jobs.data} />}
      </section>
    </>
  );
}
