// The REST calls of the compliance console, over the app's API client (same cookie, CSRF and error
// handling). Types carry only the fields the console reads.
import { API, request } from '../../api/client.ts';

const q = encodeURIComponent;
const get = <T>(path: string) => request<T>('GET', path);
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);

export type JobStatus = 'pending' | 'in_progress' | 'success' | 'warning' | 'error' | 'cancel_requested' | 'canceled';

export interface Job {
  id: string;
  type: string;
  create_at: number;
  start_at: number;
  last_activity_at: number;
  status: JobStatus;
  progress: number;
  data: Record<string, string>;
}

export interface ZipVerification {
  file: string;
  ok: boolean;
  problems: string[];
  files_checked: number;
  signer_subject: string;
  signer_fingerprint: string;
  signing_time: number;
  signed_by_this_server: boolean;
}

export interface JobVerification {
  job_id: string;
  ok: boolean;
  verified_at: number;
  zips: ZipVerification[];
}

export interface GlobalPolicy {
  message_deletion_enabled: boolean;
  file_deletion_enabled: boolean;
  message_retention_hours: number;
  file_retention_hours: number;
  keep_pinned: boolean;
}

export interface CustomPolicy {
  id: string;
  display_name: string;
  post_duration: number;
  team_count: number;
  channel_count: number;
  keep_pinned: boolean;
}

export interface PolicyDraft {
  display_name: string;
  post_duration: number;
  keep_pinned: boolean;
  team_ids: string[];
  channel_ids: string[];
}

export interface PreviewCounts {
  posts: number;
  files: number;
  oldest: number;
  newest: number;
  held_excluded: number;
  pinned_excluded: number;
}

export interface RetentionPreview {
  now: number;
  totals: PreviewCounts;
  teams: (PreviewCounts & { team_id: string; team_name: string })[];
  channels: (PreviewCounts & { channel_id: string; channel_display_name: string; channel_type: string; team_name: string })[];
  file_deletion: { enabled: boolean; cutoff: number; files: number; bytes: number; held_excluded: number };
}

export interface Hold {
  id: string;
  name: string;
  display_name: string;
  description: string;
  status: 'active' | 'released';
  user_ids: string[];
  group_ids: string[];
  channel_ids: string[];
  starts_at: number;
  ends_at: number;
  query: string;
  version: number;
  hold_create_at: number;
  released_at: number;
}

export interface NewHold {
  display_name: string;
  description: string;
  user_ids: string[];
  group_ids: string[];
  channel_ids: string[];
  starts_at: number;
  ends_at: number;
  query: string;
  comment: string;
}

export interface SearchRequest {
  terms: string;
  include_versions: boolean;
  include_deleted: boolean;
  hold_id?: string;
  time_zone_offset: number;
}

export interface SearchHit {
  id: string;
  item_type: 'message' | 'prior_version';
  state: 'original' | 'edited' | 'deleted' | 'prior_version';
  post_id: string;
  highlight: string;
  message: string;
  version_at: number;
  username: string;
  channel_display_name: string;
  channel_type: string;
  team_name: string;
}

export interface SearchResult {
  total_count: number;
  page: number;
  per_page: number;
  has_next: boolean;
  results: SearchHit[];
}

export interface SavedSearch {
  id: string;
  case_id: string;
  name: string;
  terms: string;
  last_run_at: number;
  last_total: number | null;
}

export interface Case {
  id: string;
  name: string;
  description: string;
  hold_id: string;
  create_at: number;
  searches?: SavedSearch[];
}

export interface AuditRecord {
  id: string;
  seq: number;
  create_at: number;
  user_id: string;
  ip_address: string;
  event_name: string;
  status: 'success' | 'attempt' | 'fail';
  action: string;
  hash: string;
  record: { event?: { object_type?: string; parameters?: unknown; resulting_state?: unknown }; error?: unknown };
}

export interface ChainVerification {
  ok: boolean;
  records: number;
  checkpoints: number;
  signed_through: number;
  verified_at: number;
  first: { seq: number; reason: string; detail: string } | null;
  warnings: string[];
}

export interface DirectoryUser {
  id: string;
  username: string;
  display_name: string;
  deactivated: boolean;
}

export interface DirectoryChannel {
  id: string;
  name: string;
  display_name: string;
  type: 'O' | 'P';
  team_display_name: string;
  archived: boolean;
}

export interface DirectoryTeam {
  id: string;
  name: string;
  display_name: string;
}

export interface DirectoryGroup {
  id: string;
  display_name: string;
  source: string;
}

export interface Directory {
  users: DirectoryUser[];
  channels: DirectoryChannel[];
  teams: DirectoryTeam[];
  groups: DirectoryGroup[];
}

export const complianceApi = {
  jobs: (type: string, perPage = 20) => get<Job[]>(`/jobs/type/${q(type)}?per_page=${perPage}`),
  createJob: (type: string, data: Record<string, string> = {}) => post<Job>('/jobs', { type, data }),
  cancelJob: (id: string) => post<unknown>(`/jobs/${q(id)}/cancel`),
  downloadUrl: (id: string) => `${API}/jobs/${q(id)}/download`,
  verifyExport: (id: string) => get<JobVerification>(`/compliance/exports/${q(id)}/verification`),

  globalPolicy: () => get<GlobalPolicy>('/data_retention/policy'),
  setGlobalPolicy: (p: GlobalPolicy) =>
    request<GlobalPolicy>('PUT', '/data_retention/policy', {
      message_deletion_enabled: p.message_deletion_enabled, message_retention_hours: p.message_retention_hours,
      file_deletion_enabled: p.file_deletion_enabled, file_retention_hours: p.file_retention_hours, keep_pinned: p.keep_pinned,
    }),
  policies: () => get<{ policies: CustomPolicy[]; total_count: number }>('/data_retention/policies?per_page=200'),
  policyTeams: (id: string) => get<{ id: string }[]>(`/data_retention/policies/${q(id)}/teams?per_page=200`),
  policyChannels: (id: string) => get<{ channels: { id: string }[] }>(`/data_retention/policies/${q(id)}/channels?per_page=200`),
  createPolicy: (d: PolicyDraft) => post<CustomPolicy>('/data_retention/policies', d),
  patchPolicy: (id: string, d: Pick<PolicyDraft, 'display_name' | 'post_duration' | 'keep_pinned'>) => request<CustomPolicy>('PATCH', `/data_retention/policies/${q(id)}`, d),
  changePolicyTargets: (id: string, kind: 'teams' | 'channels', change: 'add' | 'remove', ids: string[]) =>
    request<unknown>(change === 'add' ? 'POST' : 'DELETE', `/data_retention/policies/${q(id)}/${kind}`, ids),
  deletePolicy: (id: string) => request<unknown>('DELETE', `/data_retention/policies/${q(id)}`),
  preview: (body: { global?: Partial<GlobalPolicy>; policy?: { id?: string; post_duration: number; keep_pinned: boolean; team_ids: string[]; channel_ids: string[] } }) =>
    post<RetentionPreview>('/data_retention/preview', body),

  holds: (includeReleased: boolean) => get<Hold[]>(`/legal_holds?per_page=200&include_released=${includeReleased}`),
  createHold: (h: NewHold) => post<Hold>('/legal_holds', h),
  releaseHold: (id: string, comment: string) => post<Hold>(`/legal_holds/${q(id)}/release`, { comment }),

  search: (body: SearchRequest & { page: number; per_page: number; case_id?: string }) => post<SearchResult>('/ediscovery/search', body),
  cases: () => get<Case[]>('/ediscovery/cases?per_page=200'),
  caseWithSearches: (id: string) => get<Case>(`/ediscovery/cases/${q(id)}`),
  createCase: (c: { name: string; description: string; hold_id?: string }) => post<Case>('/ediscovery/cases', c),
  saveSearch: (caseId: string, s: SearchRequest & { name: string }) => post<SavedSearch>(`/ediscovery/cases/${q(caseId)}/searches`, s),
  runSavedSearch: (caseId: string, searchId: string, page: number) => post<SearchResult>(`/ediscovery/cases/${q(caseId)}/searches/${q(searchId)}/run`, { page, per_page: 20 }),
  exportCase: (caseId: string, body: { search_id?: string; hold_id?: string }) => post<Job>(`/ediscovery/cases/${q(caseId)}/exports`, body),

  audits: (query: string) => get<AuditRecord[]>(`/audits?${query}`),
  auditsExportUrl: (query: string, format: 'csv' | 'jsonl') => `${API}/audits?${query}${query ? '&' : ''}format=${format}`,
  verifyAuditChain: () => post<ChainVerification>('/audits/verify'),

  usersByIds: (ids: string[]) => post<{ id: string; username: string }[]>('/users/ids', ids),
  usersByUsernames: (names: string[]) => post<{ id: string; username: string }[]>('/users/usernames', names),

  directory: (term: string) => get<Directory>(`/compliance/directory?term=${q(term)}`),
  directoryByIds: (ids: string[]) => get<Directory>(`/compliance/directory?ids=${ids.map(q).join(',')}`),
};
