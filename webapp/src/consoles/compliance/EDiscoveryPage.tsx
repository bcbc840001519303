// eDiscovery: search everything (edited and deleted text included) with highlighted snippets, group
// searches into cases, and export a case (a saved search, or the case's legal hold) for review.
import { useState, type FormEvent } from 'react';
import { complianceApi, type Case, type SearchRequest, type SearchResult } from './api.ts';
import { useJobs } from './ExportsPage.tsx';
import { JobsTable } from './JobsTable.tsx';
import { snippetParts, stamp } from './logic.ts';
import { ErrorMessage, ListState, useAction, useLoad } from './shared.tsx';

const PER_PAGE = 20;
const stateLabels: Record<string, string> = { original: 'Message', edited: 'Edited', deleted: 'Deleted', prior_version: 'Prior version' };

export function Snippet({ highlight }: { highlight: string }) {
  return (
    <p className="cc-snippet">
      {snippetParts(highlight).map((part, i) => (part.marked ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
    </p>
  );
}

function Results({ result, onPage }: { result: SearchResult; onPage(page: number): void }) {
  const first = result.page * result.per_page + 1;
  return (
    <section aria-labelledby="results-title" className="cc-results">
      <h3 id="results-title" tabIndex={-1}>
        {result.total_count === 0 ? 'No matches' : `${result.total_count} match${result.total_count === 1 ? '' : 'es'}`}
        {result.total_count > 0 && <span className="cc-muted cc-small"> · showing {first}–{first + result.results.length - 1}</span>}
      </h3>
      <ol className="cc-hits" start={first}>
        {result.results.map((hit) => (
          <li key={hit.id} className="cc-hit">
            <div className="cc-hit-meta">
              <strong>@{hit.username}</strong> in {hit.channel_type === 'D' ? 'a direct message' : hit.channel_type === 'G' ? 'a group message' : `~${hit.channel_display_name}`}
              {hit.team_name && <span className="cc-muted"> · {hit.team_name}</span>} · <time dateTime={new Date(hit.version_at).toISOString()}>{stamp(hit.version_at)}</time>
              {hit.state !== 'original' && <span className={`cc-tag cc-tag-${hit.state}`}>{stateLabels[hit.state]}</span>}
            </div>
            <Snippet highlight={hit.highlight} />
          </li>
        ))}
      </ol>
      {(result.page > 0 || result.has_next) && (
        <div className="cc-buttons">
          <button type="button" disabled={result.page === 0} onClick={() => onPage(result.page - 1)}>
            Previous
          </button>
          <button type="button" disabled={!result.has_next} onClick={() => onPage(result.page + 1)}>
            Next
          </button>
        </div>
      )}
    </section>
  );
}

function CaseForm({ onCreated }: { onCreated(c: Case): void }) {
  const holds = useLoad(() => complianceApi.holds(false), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [holdId, setHoldId] = useState('');
  const action = useAction();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await action.run(() => complianceApi.createCase({ name: name.trim(), description, ...(holdId ? { hold_id: holdId } : {}) }));
    if (created) {
      setName('');
      setDescription('');
      setHoldId('');
      onCreated(created);
    }
  };
  return (
    <form className="cc-card cc-inline-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-case-title">
      <h4 id="new-case-title">New case</h4>
      <div className="cc-fields">
        <label>
          Case name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={128} />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} maxLength={4000} />
        </label>
        <label>
          Legal hold
          <select value={holdId} onChange={(e) => setHoldId(e.target.value)}>
            <option value="">None</option>
            {holds.data?.map((h) => (
              <option key={h.id} value={h.id}>
                {h.display_name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={action.busy || !name.trim()}>
          Create case
        </button>
      </div>
      <ErrorMessage>{action.error}</ErrorMessage>
    </form>
  );
}

function CasePanel({ caseId, request, onResult, onExported }: { caseId: string; request: SearchRequest | undefined; onResult(r: SearchResult, run: (page: number) => Promise<SearchResult>): void; onExported(): void }) {
  const detail = useLoad(() => complianceApi.caseWithSearches(caseId), [caseId]);
  const [searchName, setSearchName] = useState('');
  const action = useAction();
  const c = detail.data;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!request) return;
    if (await action.run(() => complianceApi.saveSearch(caseId, { ...request, name: searchName.trim() }))) {
      setSearchName('');
      await detail.reload();
    }
  };
  const exportCase = async (body: { search_id?: string; hold_id?: string }) => {
    if (await action.run(() => complianceApi.exportCase(caseId, body))) onExported();
  };
  const run = async (searchId: string) => {
    const page = (p: number) => complianceApi.runSavedSearch(caseId, searchId, p);
    const result = await action.run(() => page(0));
    if (result) {
      onResult(result, page);
      await detail.reload();
    }
  };
  if (!c) return <ListState loaded={detail} empty="" isEmpty={false} />;
  return (
    <section className="cc-card" aria-labelledby="case-title">
      <h4 id="case-title" tabIndex={-1}>
        {c.name}
      </h4>
      {c.description && <p className="cc-small">{c.description}</p>}
      {c.hold_id && (
        <button type="button" onClick={() => void exportCase({ hold_id: c.hold_id })} disabled={action.busy}>
          Export everything the case’s hold covers
        </button>
      )}
      <h5>Saved searches</h5>
      {c.searches?.length ? (
        <ul className="cc-saved">
          {c.searches.map((s) => (
            <li key={s.id}>
              <span>
                <strong>{s.name}</strong> <code>{s.terms || '(everything)'}</code>
                <span className="cc-muted cc-small"> {s.last_run_at ? `· last run ${stamp(s.last_run_at)}, ${s.last_total ?? 0} matches` : '· never run'}</span>
              </span>
              <span className="cc-actions">
                <button type="button" onClick={() => void run(s.id)} aria-label={`Run ${s.name}`} disabled={action.busy}>
                  Run
                </button>
                <button type="button" onClick={() => void exportCase({ search_id: s.id })} aria-label={`Export ${s.name}`} disabled={action.busy}>
                  Export
                </button>
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="cc-muted cc-small">None yet: run a search above, then save it here.</p>
      )}
      <form className="cc-fields" onSubmit={(e) => void save(e)}>
        <label>
          Save the current search as
          <input value={searchName} onChange={(e) => setSearchName(e.target.value)} maxLength={128} disabled={!request} />
        </label>
        <button type="submit" disabled={!request || !searchName.trim() || action.busy}>
          Save to case
        </button>
      </form>
      <ErrorMessage>{action.error}</ErrorMessage>
    </section>
  );
}

export function EDiscoveryPage() {
  const [terms, setTerms] = useState('');
  const [includeVersions, setIncludeVersions] = useState(true);
  const [includeDeleted, setIncludeDeleted] = useState(true);
  const [request, setRequest] = useState<SearchRequest | undefined>(undefined);
  const [result, setResult] = useState<{ value: SearchResult; page(p: number): Promise<SearchResult> } | undefined>(undefined);
  const [caseId, setCaseId] = useState('');
  const cases = useLoad(() => complianceApi.cases(), []);
  const exports = useJobs('ediscovery_export');
  const action = useAction();

  const show = (value: SearchResult, page: (p: number) => Promise<SearchResult>) => {
    setResult({ value, page });
    requestAnimationFrame(() => document.getElementById('results-title')?.focus());
  };
  const search = async (e: FormEvent) => {
    e.preventDefault();
    const req: SearchRequest = { terms, include_versions: includeVersions, include_deleted: includeDeleted, time_zone_offset: -new Date().getTimezoneOffset() * 60 };
    const page = (p: number) => complianceApi.search({ ...req, page: p, per_page: PER_PAGE, ...(caseId ? { case_id: caseId } : {}) });
    const found = await action.run(() => page(0));
    if (found) {
      setRequest(req);
      show(found, page);
    }
  };
  const turn = async (p: number) => {
    if (!result) return;
    const found = await action.run(() => result.page(p));
    if (found) show(found, result.page);
  };

  return (
    <>
      <form className="cc-card" role="search" aria-label="eDiscovery search" onSubmit={(e) => void search(e)}>
        <div className="cc-fields">
          <label className="cc-grow">
            Search terms
            <input value={terms} onChange={(e) => setTerms(e.target.value)} placeholder='e.g. from:alice (invoice OR "purchase order") after:2026-01-01' maxLength={4000} />
          </label>
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Searching…' : 'Search'}
          </button>
        </div>
        <div className="cc-fields">
          <label className="cc-check">
            <input type="checkbox" checked={includeVersions} onChange={(e) => setIncludeVersions(e.target.checked)} /> Earlier versions of edited messages
          </label>
          <label className="cc-check">
            <input type="checkbox" checked={includeDeleted} onChange={(e) => setIncludeDeleted(e.target.checked)} /> Deleted messages
          </label>
        </div>
        <p className="cc-muted cc-small">
          Mattermost’s syntax (<code>from:</code>, <code>in:</code>, <code>before:</code>, <code>after:</code>, <code>on:</code>, <code>"phrases"</code>, <code>-excluded</code>) plus <code>AND</code>, <code>OR</code>, <code>NOT</code>, parentheses, <code>has:file</code>, <code>custodian:</code> and <code>hold:</code>. Every search is recorded in the audit log.
        </p>
        <ErrorMessage>{action.error}</ErrorMessage>
      </form>
      {result && <Results result={result.value} onPage={(p) => void turn(p)} />}

      <h3>Cases</h3>
      <CaseForm
        onCreated={(c) => {
          void cases.reload();
          setCaseId(c.id);
        }}
      />
      <ListState loaded={cases} empty="No case yet." isEmpty={cases.data?.length === 0} />
      {!!cases.data?.length && (
        <label className="cc-case-select">
          Open case
          <select value={caseId} onChange={(e) => setCaseId(e.target.value)}>
            <option value="">Choose a case…</option>
            {cases.data.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {caseId && <CasePanel key={caseId} caseId={caseId} request={request} onResult={show} onExported={() => void exports.reload()} />}

      <h3>Case exports</h3>
      <ListState loaded={exports} empty="No case has been exported yet." isEmpty={exports.data?.length === 0} />
      {!!exports.data?.length && <JobsTable jobs={exports.data} caption="eDiscovery case exports, newest first" />}
    </>
  );
}
