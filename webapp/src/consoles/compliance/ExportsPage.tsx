// Compliance exports: run one now (format, optional date range), follow it, download and verify it.
import { useState, type FormEvent } from 'react';
import { complianceApi, type Job } from './api.ts';
import { JobsTable } from './JobsTable.tsx';
import { dateInputToMs, isActive } from './logic.ts';
import { ErrorMessage, ListState, useAction, useLoad, usePolling } from './shared.tsx';

const formats = [
  { value: 'actiance', label: 'Actiance XML' },
  { value: 'globalrelay', label: 'Global Relay EML' },
  { value: 'csv', label: 'CSV' },
  { value: 'jsonl', label: 'JSON Lines (lossless)' },
];

/** Polls a job list every 2 s while any of its jobs is pending or running. */
export function useJobs(type: string) {
  const jobs = useLoad(() => complianceApi.jobs(type), [type]);
  usePolling(() => void jobs.reload(), !!jobs.data?.some(isActive), 2000);
  return jobs;
}

export function ExportsPage() {
  const jobs = useJobs('message_export');
  const action = useAction();
  const [format, setFormat] = useState('actiance');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');

  const run = async (e: FormEvent) => {
    e.preventDefault();
    const data: Record<string, string> = { format };
    const start = dateInputToMs(from);
    const end = dateInputToMs(to, true);
    if (start) data.from = String(start);
    if (end) data.to = String(end);
    const created = await action.run(() => complianceApi.createJob('message_export', data));
    if (created) await jobs.reload();
  };
  const cancel = async (job: Job) => {
    if (await action.run(() => complianceApi.cancelJob(job.id))) await jobs.reload();
  };

  return (
    <>
      <form className="cc-card cc-inline-form" onSubmit={(e) => void run(e)} aria-labelledby="run-export-title">
        <h3 id="run-export-title">Run an export</h3>
        <p className="cc-muted cc-small">Without dates, the export continues where the last one ended. With dates, it is a stand-alone export of that range.</p>
        <div className="cc-fields">
          <label>
            Format
            <select value={format} onChange={(e) => setFormat(e.target.value)}>
              {formats.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            From (optional)
            <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            To (optional)
            <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Starting…' : 'Run now'}
          </button>
        </div>
        <ErrorMessage>{action.error}</ErrorMessage>
      </form>
      <h3>History</h3>
      <ListState loaded={jobs} empty="No export has run yet." isEmpty={jobs.data?.length === 0} />
      {!!jobs.data?.length && <JobsTable jobs={jobs.data} caption="Compliance export jobs, newest first" canCancel onCancel={(j) => void cancel(j)} />}
    </>
  );
}
