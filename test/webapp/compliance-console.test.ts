import { expect } from 'chai';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { Job, RetentionPreview } from '../../webapp/src/consoles/compliance/api.ts';
import {
  auditQuery, dateInputToMs, holdProblems, idChanges, isDownloadable, jobSummary, noAuditFilters, policyProblems, progressOf, proposalKey, sectionAt, sectionsFor,
  snippetParts,
} from '../../webapp/src/consoles/compliance/logic.ts';
import { fakeBrowserGlobals, registerTsx } from './support/tsx.ts';

const hold = { display_name: 'Inquiry', description: '', user_ids: ['u1'], group_ids: [], channel_ids: [], starts_at: 0, ends_at: 0, query: '', comment: '' };
const job = (extra: Partial<Job>): Job => ({ id: 'j'.repeat(26), type: 'message_export', create_at: 1, start_at: 1, last_activity_at: 1, status: 'pending', progress: 0, data: {}, ...extra });

describe('compliance console logic', () => {
  it('reads date inputs as whole local days, open when empty, and refuses impossible dates', () => {
    expect(dateInputToMs('')).to.equal(0);
    expect(dateInputToMs('2026-03-01')).to.equal(new Date(2026, 2, 1).getTime());
    expect(dateInputToMs('2026-03-01', true)).to.equal(new Date(2026, 2, 1, 23, 59, 59, 999).getTime());
    expect(dateInputToMs('2026-02-30')).to.be.NaN;
    expect(dateInputToMs('01/03/2026')).to.be.NaN;
  });

  it('says what stops a hold: a name, a scope, dates in order', () => {
    expect(holdProblems(hold)).to.deep.equal([]);
    expect(holdProblems({ ...hold, display_name: ' ', user_ids: [] })).to.deep.equal(['Give the hold a name.', 'Add at least one custodian, group or channel.']);
    expect(holdProblems({ ...hold, starts_at: 10, ends_at: 5 })).to.deep.equal(['The end date is before the start date.']);
    expect(holdProblems({ ...hold, starts_at: 10, ends_at: 0 }), 'an open end').to.deep.equal([]);
    expect(holdProblems({ ...hold, ends_at: NaN })).to.deep.equal(['Enter dates as YYYY-MM-DD.']);
  });

  it('checks a custom policy: a name, a duration or forever, at least one team or channel', () => {
    const draft = { display_name: 'Legal', post_duration: 30, keep_pinned: false, team_ids: ['t'], channel_ids: [] };
    expect(policyProblems(draft)).to.deep.equal([]);
    expect(policyProblems({ ...draft, post_duration: -1 })).to.deep.equal([]);
    expect(policyProblems({ ...draft, post_duration: 0, team_ids: [] })).to.have.length(2);
    expect(policyProblems({ ...draft, post_duration: NaN })).to.deep.equal(['Keep messages 1 to 36500 days, or forever.']);
  });

  it('keys a proposal by content, so saving stays offered only for what was previewed', () => {
    const a = { policy: { post_duration: 30, team_ids: ['b', 'a'], keep_pinned: false } };
    const same = { policy: { keep_pinned: false, team_ids: ['a', 'b'], post_duration: 30 } };
    expect(proposalKey(a)).to.equal(proposalKey(same));
    expect(proposalKey(a)).to.not.equal(proposalKey({ policy: { ...a.policy, post_duration: 31 } }));
    expect(proposalKey(a)).to.not.equal(proposalKey({ policy: { ...a.policy, team_ids: ['a'] } }));
  });

  it('sends only the teams and channels that changed', () => {
    expect(idChanges(['a', 'b'], ['b', 'c'])).to.deep.equal({ add: ['c'], remove: ['a'] });
    expect(idChanges([], [])).to.deep.equal({ add: [], remove: [] });
  });

  it('builds the audit query from filters and explains bad ones', () => {
    expect(auditQuery(noAuditFilters)).to.deep.equal({ query: '', problems: [] });
    const built = auditQuery({ event_name: ' create_legal_hold ', user_id: 'u'.repeat(26), status: 'fail', since: '2026-01-01', until: '2026-01-31' });
    const params = new URLSearchParams(built.query);
    expect(built.problems).to.deep.equal([]);
    expect(params.get('event_name')).to.equal('create_legal_hold');
    expect(params.get('status')).to.equal('fail');
    expect(Number(params.get('until')) - Number(params.get('since'))).to.equal(new Date(2026, 0, 31, 23, 59, 59, 999).getTime() - new Date(2026, 0, 1).getTime());
    expect(auditQuery({ ...noAuditFilters, event_name: 'Drop Table' }).problems).to.have.length(1);
    expect(auditQuery({ ...noAuditFilters, since: '2026-02-01', until: '2026-01-01' }).problems).to.deep.equal(['“To” is before “from”.']);
  });

  it('turns search snippets into text parts: marks kept, entities decoded, other markup left as text', () => {
    expect(snippetParts('Pay the <mark>invoice</mark> &amp; the &lt;b&gt;rest&lt;/b&gt;')).to.deep.equal([
      { text: 'Pay the ', marked: false },
      { text: 'invoice', marked: true },
      { text: ' & the <b>rest</b>', marked: false },
    ]);
    expect(snippetParts('<mark>a</mark><mark>b</mark>').map((p) => p.text)).to.deep.equal(['a', 'b']);
    expect(snippetParts('')).to.deep.equal([]);
  });

  it('opens the sections a user’s roles allow, and the first one for an unknown path', () => {
    expect(sectionsFor('system_user compliance_officer').map((s) => s.id)).to.deep.equal(['exports', 'retention', 'holds', 'ediscovery']);
    expect(sectionsFor('system_user auditor').map((s) => s.id)).to.deep.equal(['audit']);
    expect(sectionsFor('system_admin').map((s) => s.id)).to.have.length(5);
    expect(sectionsFor('system_user')).to.deep.equal([]);
    const officer = sectionsFor('compliance_officer');
    expect(sectionAt('/holds', officer)?.id).to.equal('holds');
    expect(sectionAt('/', officer)?.id).to.equal('exports');
    expect(sectionAt('/audit', officer)?.id, 'a section the user lacks').to.equal('exports');
  });

  it('reads job states: progress, what can be downloaded, a summary line', () => {
    expect(progressOf(job({ status: 'in_progress', progress: 42.4 }))).to.equal(42);
    expect(progressOf(job({ status: 'in_progress', progress: 140 }))).to.equal(100);
    expect(progressOf(job({ status: 'success', progress: 0 }))).to.equal(100);
    expect(isDownloadable(job({ status: 'success', data: { is_downloadable: 'true' } }))).to.equal(true);
    expect(isDownloadable(job({ status: 'warning', data: { batches: '2' } }))).to.equal(true);
    expect(isDownloadable(job({ status: 'error', data: { batches: '2' } }))).to.equal(false);
    expect(isDownloadable(job({ status: 'success', type: 'ediscovery_export', data: {} }))).to.equal(false);
    expect(jobSummary(job({ data: { format: 'csv', messages_exported: '12', batches: '1', warning_count: '2' } }))).to.equal('csv · 12 messages · 1 batch · 2 warnings');
    expect(jobSummary(job({ type: 'ediscovery_export', data: { items: '5', attachments: '0' } }))).to.equal('5 items');
  });
});

describe('compliance console components (server render)', () => {
  before(() => {
    registerTsx();
    fakeBrowserGlobals('/compliance/exports');
  });

  it('shows a progress bar for a running export, and download and verify for a finished one', async () => {
    const { JobsTable } = await import('../../webapp/src/consoles/compliance/JobsTable.tsx');
    const running = job({ id: 'a'.repeat(26), status: 'in_progress', progress: 37 });
    const finished = job({ id: 'b'.repeat(26), status: 'success', data: { format: 'jsonl', messages_exported: '3', batches: '1', is_downloadable: 'true' } });
    const html = renderToStaticMarkup(createElement(JobsTable, { jobs: [running, finished], caption: 'Exports' }));
    expect(html).to.match(/<progress max="100" value="37" aria-label="Job aaaaaaaa progress"><\/progress>/);
    expect(html).to.include('Running');
    expect(html).to.include(`href="/api/v4/jobs/${'b'.repeat(26)}/download" download=""`);
    expect(html).to.include('>Verify</button>');
    expect(html.match(/<progress/g)).to.have.length(1);
    expect(html.match(/\/download"/g), 'no download before it finished').to.have.length(1);
  });

  it('lists every problem of a failed verification', async () => {
    const { VerificationResult } = await import('../../webapp/src/consoles/compliance/JobsTable.tsx');
    const html = renderToStaticMarkup(createElement(VerificationResult, {
      result: { job_id: 'x', ok: false, verified_at: 1, zips: [{ file: 'batch001.zip', ok: false, problems: ['export.jsonl: content differs'], files_checked: 2, signer_subject: 'CN=x', signer_fingerprint: 'ab', signing_time: 0, signed_by_this_server: false }] },
    }));
    expect(html).to.include('Verification failed');
    expect(html).to.include('export.jsonl: content differs');
    expect(html).to.include('(another certificate)');
  });

  it('renders snippets as text with <mark> around matches, never as markup', async () => {
    const { Snippet } = await import('../../webapp/src/consoles/compliance/EDiscoveryPage.tsx');
    const html = renderToStaticMarkup(createElement(Snippet, { highlight: '&lt;img src=x onerror=alert(1)&gt; <mark>merger</mark> <script>x</script>' }));
    expect(html).to.include('<mark>merger</mark>');
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).to.include('&lt;script&gt;x&lt;/script&gt;');
    expect(html).to.not.match(/<(img|script)/);
  });

  it('summarises a deletion preview with what holds and pins spare', async () => {
    const { PreviewSummary } = await import('../../webapp/src/consoles/compliance/RetentionPage.tsx');
    const counts = { posts: 3, files: 1, oldest: new Date(2025, 0, 2).getTime(), newest: new Date(2025, 5, 1).getTime(), held_excluded: 2, pinned_excluded: 1 };
    const preview: RetentionPreview = {
      now: Date.now(), totals: counts, teams: [], channels: [{ ...counts, channel_id: 'c', channel_display_name: 'Boardroom', channel_type: 'P', team_name: 'acme' }],
      file_deletion: { enabled: false, cutoff: 0, files: 0, bytes: 0, held_excluded: 0 },
    };
    const html = renderToStaticMarkup(createElement(PreviewSummary, { preview }));
    expect(html).to.include('3 messages would be deleted now');
    expect(html).to.include('2 spared by legal holds');
    expect(html).to.include('1 pinned spared');
    expect(html).to.include('Boardroom');
    expect(renderToStaticMarkup(createElement(PreviewSummary, { preview: { ...preview, totals: { ...counts, posts: 0, held_excluded: 0, pinned_excluded: 0, files: 0 }, channels: [] } }))).to.include('Nothing would be deleted now.');
  });

  it('labels every field of the hold form, the pickers as comboboxes', async () => {
    const { HoldsPage } = await import('../../webapp/src/consoles/compliance/HoldsPage.tsx');
    const html = renderToStaticMarkup(createElement(HoldsPage));
    for (const label of ['Custodians', 'Groups', 'Channels']) expect(html).to.match(new RegExp(`<label for="[^"]+-input">${label}</label>`));
    expect(html.match(/role="combobox"/g)).to.have.length(3);
    expect(html).to.include('aria-labelledby="new-hold-title"');
    expect(html).to.include('>Create hold</button>');
  });
});
