// A job history table: status, a progress bar while a job runs (the list polls until none does),
// the download of a finished export and the server's verification of its signed manifest.
import { useState } from 'react';
import { complianceApi, type Job, type JobVerification } from './api.ts';
import { isActive, isDownloadable, jobStatusLabel, jobSummary, progressOf, stamp } from './logic.ts';
import { ErrorMessage, errorText, Verdict } from './shared.tsx';

function Progress({ job }: { job: Job }) {
  const value = progressOf(job);
  return (
    <div className="cc-progress">
      <progress max={100} value={value} aria-label={`Job ${job.id.slice(0, 8)} progress`} />
      <span aria-hidden="true">{value}%</span>
    </div>
  );
}

export function VerificationResult({ result }: { result: JobVerification }) {
  return (
    <div className="cc-verification" data-ok={result.ok}>
      <Verdict ok={result.ok}>{result.ok ? 'Signature and manifest verified' : 'Verification failed'}</Verdict>
      <ul>
        {result.zips.map((z) => (
          <li key={z.file}>
            <code>{z.file}</code>: {z.ok ? (z.files_checked === 1 ? '1 file matches the signed manifest' : `${z.files_checked} files match the signed manifest`) : `${z.problems.length} problem(s)`}
            {z.signer_subject && (
              <span className="cc-muted">
                {' '}· signed by {z.signer_subject}
                {z.signing_time ? ` on ${stamp(z.signing_time)}` : ''}
                {z.signed_by_this_server ? ' (this server’s export certificate)' : ' (another certificate)'}
              </span>
            )}
            {z.signer_fingerprint && <div className="cc-fingerprint">SHA-256 {z.signer_fingerprint}</div>}
            {!z.ok && (
              <ul className="cc-problems">
                {z.problems.slice(0, 10).map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

function VerifyButton({ job }: { job: Job }) {
  const [state, setState] = useState<{ busy?: boolean; result?: JobVerification; error?: string }>({});
  const verify = async () => {
    setState({ busy: true });
    try {
      setState({ result: await complianceApi.verifyExport(job.id) });
    } catch (err) {
      setState({ error: errorText(err) });
    }
  };
  return (
    <div className="cc-verify" aria-live="polite">
      {!state.result && (
        <button type="button" onClick={() => void verify()} disabled={state.busy}>
          {state.busy ? 'Verifying…' : 'Verify'}
        </button>
      )}
      {state.result && <VerificationResult result={state.result} />}
      <ErrorMessage>{state.error}</ErrorMessage>
    </div>
  );
}

export function JobsTable({ jobs, caption, canCancel, onCancel }: { jobs: Job[]; caption: string; canCancel?: boolean; onCancel?: (job: Job) => void }) {
  return (
    <div className="cc-table-wrap">
      <table className="cc-table cc-jobs">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Requested</th>
            <th scope="col">Status</th>
            <th scope="col">Result</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id} data-job-id={job.id} data-status={job.status}>
              <td data-label="Requested">
                {stamp(job.create_at)}
                <div className="cc-muted cc-small">{job.data.trigger === 'schedule' ? 'scheduled' : job.data.case_id ? 'case export' : 'on demand'}</div>
              </td>
              <td data-label="Status">
                <span className={`cc-status cc-status-${job.status}`}>{jobStatusLabel(job.status)}</span>
                {isActive(job) && <Progress job={job} />}
              </td>
              <td data-label="Result">{jobSummary(job) || <span className="cc-muted">—</span>}</td>
              <td data-label="Actions" className="cc-actions">
                {isDownloadable(job) && (
                  <>
                    <a className="cc-button" href={complianceApi.downloadUrl(job.id)} download>
                      Download
                    </a>
                    <VerifyButton job={job} />
                  </>
                )}
                {canCancel && isActive(job) && job.status !== 'cancel_requested' && (
                  <button type="button" onClick={() => onCancel?.(job)}>
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
