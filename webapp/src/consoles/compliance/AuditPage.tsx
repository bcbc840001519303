// The audit log: newest records first with filters (event, user, outcome, dates), exports of every
// matching record (CSV, JSON Lines), and the verification of the whole hash chain and checkpoints.
import { useEffect, useState, type FormEvent } from 'react';
import { complianceApi, type AuditRecord, type ChainVerification } from './api.ts';
import { auditQuery, noAuditFilters, stamp, type AuditFilters } from './logic.ts';
import { ErrorMessage, ListState, useAction, useLoad, Verdict } from './shared.tsx';

const PER_PAGE = 50;

function ChainStatus() {
  const [result, setResult] = useState<ChainVerification | undefined>(undefined);
  const action = useAction();
  const verify = async () => setResult(await action.run(() => complianceApi.verifyAuditChain()));
  return (
    <section className="cc-card" aria-labelledby="chain-title">
      <h3 id="chain-title">Chain verification</h3>
      <div aria-live="polite">
        {result ? (
          <div data-chain-ok={result.ok}>
            <Verdict ok={result.ok}>
              {result.ok
                ? `Intact: ${result.records} records chained, ${result.checkpoints} signed checkpoints, signed through record ${result.signed_through}.`
                : `Tampering detected at record ${result.first?.seq}: ${result.first?.reason}.`}
            </Verdict>
            {result.first && <p className="cc-small">{result.first.detail}</p>}
            {result.warnings.map((w) => (
              <p key={w} className="cc-small cc-muted">
                {w}
              </p>
            ))}
            <p className="cc-small cc-muted">Checked {stamp(result.verified_at)}.</p>
          </div>
        ) : (
          <p className="cc-muted cc-small">Checks every record’s hash link, every checkpoint signature and the checkpoint file kept outside the database.</p>
        )}
      </div>
      <button type="button" onClick={() => void verify()} disabled={action.busy}>
        {action.busy ? 'Verifying…' : result ? 'Verify again' : 'Verify the chain'}
      </button>
      <ErrorMessage>{action.error}</ErrorMessage>
    </section>
  );
}

/** A user filter typed as @username (or a user id), resolved to the id the API filters on. */
async function resolveUser(text: string): Promise<string> {
  const value = text.trim().replace(/^@/, '');
  if (!value || /^[a-z0-9]{26}$/.test(value)) return value;
  const [user] = await complianceApi.usersByUsernames([value]);
  if (!user) throw new Error(`There is no user @${value}.`);
  return user.id;
}

function detailOf(r: AuditRecord): string {
  const e = r.record.event;
  const parts = [e?.object_type, r.record.error ? JSON.stringify(r.record.error) : ''];
  return parts.filter(Boolean).join(' · ');
}

export function AuditPage() {
  const [draft, setDraft] = useState({ ...noAuditFilters, user: '' });
  const [applied, setApplied] = useState<{ query: string; page: number }>({ query: '', page: 0 });
  const [problems, setProblems] = useState<string[]>([]);
  const records = useLoad(() => complianceApi.audits(`${applied.query}${applied.query ? '&' : ''}page=${applied.page}&per_page=${PER_PAGE}`), [applied]);
  const [names, setNames] = useState<Record<string, string>>({});

  useEffect(() => {
    const missing = [...new Set((records.data ?? []).map((r) => r.user_id).filter((id) => id && !names[id]))];
    if (!missing.length) return;
    complianceApi.usersByIds(missing).then(
      (users) => setNames((n) => ({ ...n, ...Object.fromEntries(users.map((u) => [u.id, u.username])) })),
      () => undefined,
    );
  }, [records.data, names]);

  const apply = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const filters: AuditFilters = { ...draft, user_id: await resolveUser(draft.user) };
      const built = auditQuery(filters);
      setProblems(built.problems);
      if (!built.problems.length) setApplied({ query: built.query, page: 0 });
    } catch (err) {
      setProblems([(err as Error).message]);
    }
  };

  return (
    <>
      <ChainStatus />
      <form className="cc-card" aria-labelledby="audit-filters-title" onSubmit={(e) => void apply(e)}>
        <h3 id="audit-filters-title">Filters</h3>
        <div className="cc-fields">
          <label>
            Event
            <input value={draft.event_name} onChange={(e) => setDraft({ ...draft, event_name: e.target.value })} placeholder="e.g. create_legal_hold" />
          </label>
          <label>
            User
            <input value={draft.user} onChange={(e) => setDraft({ ...draft, user: e.target.value })} placeholder="@username" />
          </label>
          <label>
            Outcome
            <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as AuditFilters['status'] })}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="fail">Failure or denial</option>
              <option value="attempt">Attempt</option>
            </select>
          </label>
          <label>
            From
            <input type="date" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
          </label>
          <label>
            To
            <input type="date" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
          </label>
          <button type="submit" className="primary">
            Apply
          </button>
        </div>
        {problems.length > 0 && (
          <ul className="cc-error" role="alert">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <p className="cc-small">
          Every matching record: <a href={complianceApi.auditsExportUrl(applied.query, 'csv')}>CSV</a> · <a href={complianceApi.auditsExportUrl(applied.query, 'jsonl')}>JSON Lines</a>
          <span className="cc-muted"> (reading the log is itself recorded)</span>
        </p>
      </form>
      <ListState loaded={records} empty="No record matches." isEmpty={records.data?.length === 0} />
      {!!records.data?.length && (
        <div className="cc-table-wrap">
          <table className="cc-table cc-audit">
            <caption className="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Outcome</th>
                <th scope="col">User</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {records.data.map((r) => (
                <tr key={r.seq}>
                  <td data-label="#">{r.seq}</td>
                  <td data-label="Time">{stamp(r.create_at)}</td>
                  <td data-label="Event">
                    <code>{r.event_name}</code>
                  </td>
                  <td data-label="Outcome">
                    <span className={`cc-status cc-status-${r.status}`}>{r.status}</span>
                  </td>
                  <td data-label="User">
                    {r.user_id ? `@${names[r.user_id] ?? r.user_id}` : 'system'}
                    {r.ip_address && <div className="cc-small cc-muted">{r.ip_address}</div>}
                  </td>
                  <td data-label="Details" className="cc-small">
                    {detailOf(r)}
                    <div className="cc-muted cc-hash" title="Chain hash">
                      {r.hash.slice(0, 16)}…
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="cc-buttons">
        <button type="button" disabled={applied.page === 0} onClick={() => setApplied({ ...applied, page: applied.page - 1 })}>
          Newer
        </button>
        <button type="button" disabled={(records.data?.length ?? 0) < PER_PAGE} onClick={() => setApplied({ ...applied, page: applied.page + 1 })}>
          Older
        </button>
      </div>
    </>
  );
}
