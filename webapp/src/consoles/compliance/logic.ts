// The compliance console's logic, kept pure so it is tested in Node: job states, the forms' checks
// and conversions, the audit filter query, and search snippets turned into text (never HTML).
import type { Job, NewHold, PolicyDraft } from './api.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-11-22 14:05" in the reader's time zone: unambiguous in a compliance record, and sortable. */
export function stamp(ms: number): string {
  if (!ms) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2026-11-22", or "" for no date: the value of an `<input type="date">`. */
export function dateInputValue(ms: number): string {
  if (!ms) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Epoch ms of a date input's value in the reader's time zone: the start of the day, or with `endOfDay`
 * its last millisecond (a range "to Nov 30" includes Nov 30). Empty → 0 (open); invalid → NaN.
 */
export function dateInputToMs(value: string, endOfDay = false): number {
  if (!value) return 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const d = endOfDay ? new Date(year, month, day, 23, 59, 59, 999) : new Date(year, month, day);
  return d.getFullYear() === year && d.getMonth() === month && d.getDate() === day ? d.getTime() : NaN;
}

const statusLabels: Record<Job['status'], string> = {
  pending: 'Pending', in_progress: 'Running', success: 'Succeeded', warning: 'Finished with warnings', error: 'Failed',
  cancel_requested: 'Cancelling', canceled: 'Cancelled',
};

export function jobStatusLabel(status: Job['status']): string {
  return statusLabels[status] ?? status;
}

/** Pending or running: its row changes, so the list keeps polling while one is. */
export function isActive(job: Pick<Job, 'status'>): boolean {
  return job.status === 'pending' || job.status === 'in_progress' || job.status === 'cancel_requested';
}

/** Finished with a file to fetch (a warning still leaves a complete, signed export). */
export function isDownloadable(job: Pick<Job, 'status' | 'type' | 'data'>): boolean {
  if (job.status !== 'success' && job.status !== 'warning') return false;
  return job.type === 'ediscovery_export' ? !!job.data.file_key : job.data.is_downloadable === 'true' || Number(job.data.batches ?? 0) > 0;
}

/** 0..100 for the progress bar, clamped (the server reports an integer percentage). */
export function progressOf(job: Pick<Job, 'progress' | 'status'>): number {
  if (job.status === 'success' || job.status === 'warning') return 100;
  return Math.min(100, Math.max(0, Math.round(job.progress || 0)));
}

/** A line saying what a finished export holds, from its public data. */
export function jobSummary(job: Pick<Job, 'type' | 'data'>): string {
  const d = job.data;
  const parts: string[] = [];
  if (job.type === 'ediscovery_export') {
    if (d.items) parts.push(`${d.items} items`);
    if (d.attachments && d.attachments !== '0') parts.push(`${d.attachments} attachments`);
  } else {
    if (d.format) parts.push(d.format);
    if (d.messages_exported) parts.push(`${d.messages_exported} messages`);
    if (d.batches) parts.push(`${d.batches} ${d.batches === '1' ? 'batch' : 'batches'}`);
  }
  const warnings = Number(d.warning_count ?? d.warnings ?? 0);
  if (warnings > 0) parts.push(`${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`);
  if (d.error) parts.push(d.error);
  return parts.join(' · ');
}

/** What stops a hold from being created, each as a sentence for the form; empty when it can be. */
export function holdProblems(h: NewHold): string[] {
  const problems: string[] = [];
  if (!h.display_name.trim()) problems.push('Give the hold a name.');
  if (h.user_ids.length + h.group_ids.length + h.channel_ids.length === 0) problems.push('Add at least one custodian, group or channel.');
  if (Number.isNaN(h.starts_at) || Number.isNaN(h.ends_at)) problems.push('Enter dates as YYYY-MM-DD.');
  else if (h.ends_at !== 0 && h.ends_at < h.starts_at) problems.push('The end date is before the start date.');
  return problems;
}

export function policyProblems(p: PolicyDraft): string[] {
  const problems: string[] = [];
  if (!p.display_name.trim()) problems.push('Give the policy a name.');
  if (p.post_duration !== -1 && !(Number.isInteger(p.post_duration) && p.post_duration >= 1 && p.post_duration <= 36500)) problems.push('Keep messages 1 to 36500 days, or forever.');
  if (p.team_ids.length + p.channel_ids.length === 0) problems.push('Apply the policy to at least one team or channel.');
  return problems;
}

/** Days shown for a retention in hours (the API keeps hours; whole days are what people set). */
export function daysOf(hours: number): number {
  return Math.max(1, Math.round(hours / 24));
}

/**
 * A stable key of what a preview was computed for. Saving is offered only while the form still says
 * exactly what was previewed, so nobody saves a deletion they have not seen.
 */
export function proposalKey(proposal: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? [...v].map(sort).sort() : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)])) : v;
  return JSON.stringify(sort(proposal));
}

/** What changes in a list of ids: those to add and those to remove. */
export function idChanges(before: readonly string[], after: readonly string[]): { add: string[]; remove: string[] } {
  const was = new Set(before);
  const now = new Set(after);
  return { add: [...now].filter((id) => !was.has(id)), remove: [...was].filter((id) => !now.has(id)) };
}

export interface AuditFilters {
  event_name: string;
  user_id: string;
  status: '' | 'success' | 'attempt' | 'fail';
  since: string;
  until: string;
}

export const noAuditFilters: AuditFilters = { event_name: '', user_id: '', status: '', since: '', until: '' };

/** The query string of `GET /audits` for these filters (dates are whole local days), without paging. */
export function auditQuery(f: AuditFilters): { query: string; problems: string[] } {
  const params = new URLSearchParams();
  const problems: string[] = [];
  const event = f.event_name.trim();
  if (event) {
    if (/^[a-z][a-z0-9_]{0,63}$/.test(event)) params.set('event_name', event);
    else problems.push('An event name is lower-case letters, digits and _ (like create_legal_hold).');
  }
  if (f.user_id) params.set('user_id', f.user_id);
  if (f.status) params.set('status', f.status);
  const since = dateInputToMs(f.since);
  const until = dateInputToMs(f.until, true);
  if (Number.isNaN(since) || Number.isNaN(until)) problems.push('Enter dates as YYYY-MM-DD.');
  else {
    if (since) params.set('since', String(since));
    if (until) params.set('until', String(until));
    if (since && until && until < since) problems.push('“To” is before “from”.');
  }
  return { query: params.toString(), problems };
}

export interface SnippetPart {
  text: string;
  marked: boolean;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27|apos);/g, (_, name: string) => entities[name]);
}

/**
 * A search snippet (HTML-escaped text with `<mark>` around matches, as the server's `ts_headline`
 * makes it) as plain text parts. Nothing of it is ever HTML: any other tag stays visible text.
 */
export function snippetParts(highlight: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const re = /<mark>([\s\S]*?)<\/mark>/g;
  let last = 0;
  for (let m = re.exec(highlight); m; m = re.exec(highlight)) {
    if (m.index > last) parts.push({ text: decodeEntities(highlight.slice(last, m.index)), marked: false });
    parts.push({ text: decodeEntities(m[1]), marked: true });
    last = m.index + m[0].length;
  }
  if (last < highlight.length) parts.push({ text: decodeEntities(highlight.slice(last)), marked: false });
  return parts;
}

export type SectionId = 'exports' | 'retention' | 'holds' | 'ediscovery' | 'audit';

export interface Section {
  id: SectionId;
  path: string;
  label: string;
}

const sections: readonly (Section & { roles: readonly string[] })[] = [
  { id: 'exports', path: '/exports', label: 'Exports', roles: ['system_admin', 'compliance_officer'] },
  { id: 'retention', path: '/retention', label: 'Retention', roles: ['system_admin', 'compliance_officer'] },
  { id: 'holds', path: '/holds', label: 'Legal holds', roles: ['system_admin', 'compliance_officer'] },
  { id: 'ediscovery', path: '/ediscovery', label: 'eDiscovery', roles: ['system_admin', 'compliance_officer'] },
  { id: 'audit', path: '/audit', label: 'Audit log', roles: ['system_admin', 'auditor'] },
];

/** The sections a user's roles open (the server still checks every call). */
export function sectionsFor(roles: string): Section[] {
  const mine = new Set(roles.split(/\s+/));
  return sections.filter((s) => s.roles.some((r) => mine.has(r))).map(({ id, path, label }) => ({ id, path, label }));
}

/** The section a console path names; the first one the user has for `/` or an unknown path. */
export function sectionAt(path: string, available: readonly Section[]): Section | undefined {
  const first = '/' + (path.split('/')[1] ?? '');
  return available.find((s) => s.path === first) ?? available[0];
}
