// The API v4 client: fetch with the browser's session cookie. Writes carry the CSRF token from the
// MMCSRF cookie (and X-Requested-With, Mattermost's legacy marker). A 401 on any call but login means
// the session ended: the listeners registered with onSessionExpired decide what the user sees.

import type { AppErrorBody, Channel, ChannelMember, ClientConfig, FileInfo, Post, PostList, Reaction, Team, User } from './types.ts';

export const API = '/api/v4';

export class ApiError extends Error {
  readonly status: number;
  readonly id: string;
  constructor(status: number, body: Partial<AppErrorBody> | undefined, fallback: string) {
    super(body?.message || fallback);
    this.status = status;
    this.id = body?.id ?? '';
  }
}

const expiredListeners = new Set<() => void>();

/** Called whenever an authenticated request comes back 401. */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

/** The value of a cookie readable by scripts (MMCSRF, MMUSERID). */
export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Headers every request sends; writes add the CSRF token. */
export function requestHeaders(method: string): Record<string, string> {
  const headers: Record<string, string> = { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = readCookie('MMCSRF');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  return headers;
}

export async function request<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal; expectAuth?: boolean } = {}): Promise<T> {
  const headers = requestHeaders(method);
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal: options.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, undefined, 'Could not reach the server. Check your connection.');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    if (res.status === 401 && options.expectAuth !== false) for (const listener of expiredListeners) listener();
    throw new ApiError(res.status, json as AppErrorBody | undefined, `${method} ${path} failed with ${res.status}`);
  }
  return json as T;
}

const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, { signal });
const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
const put = <T>(path: string, body: unknown) => request<T>('PUT', path, body);
const del = <T>(path: string) => request<T>('DELETE', path);
const q = encodeURIComponent;

export interface SearchResults extends PostList {
  matches?: Record<string, string[]>;
}

/** Every endpoint the app calls. */
export const api = {
  clientConfig: () => request<ClientConfig>('GET', '/config/client?format=old', undefined, { expectAuth: false }),
  login: (loginId: string, password: string) => request<User>('POST', '/users/login', { login_id: loginId, password }, { expectAuth: false }),
  logout: () => request<unknown>('POST', '/users/logout', {}, { expectAuth: false }),
  me: () => request<User>('GET', '/users/me', undefined, { expectAuth: false }),
  myTeams: () => get<Team[]>('/users/me/teams'),
  myChannels: (teamId: string) => get<Channel[]>(`/users/me/teams/${q(teamId)}/channels`),
  myChannelMembers: (teamId: string) => get<ChannelMember[]>(`/users/me/teams/${q(teamId)}/channels/members`),
  channel: (channelId: string) => get<Channel>(`/channels/${q(channelId)}`),
  publicChannels: (teamId: string) => get<Channel[]>(`/teams/${q(teamId)}/channels?per_page=200`),
  channelByName: (teamId: string, name: string) => get<Channel>(`/teams/${q(teamId)}/channels/name/${q(name)}`),
  joinChannel: (channelId: string, userId: string) => post<ChannelMember>(`/channels/${q(channelId)}/members`, { user_id: userId }),
  viewChannel: (channelId: string) => post<unknown>('/channels/members/me/view', { channel_id: channelId }),
  openDirect: (myId: string, otherId: string) => post<Channel>('/channels/direct', [myId, otherId]),
  channelPosts: (channelId: string, options: { before?: string; perPage?: number; since?: number } = {}, signal?: AbortSignal) => {
    const params = new URLSearchParams({ per_page: String(options.perPage ?? 60) });
    if (options.before) params.set('before', options.before);
    if (options.since !== undefined) params.set('since', String(options.since));
    return get<PostList>(`/channels/${q(channelId)}/posts?${params}`, signal);
  },
  thread: (postId: string) => get<PostList>(`/posts/${q(postId)}/thread`),
  pinned: (channelId: string) => get<PostList>(`/channels/${q(channelId)}/pinned`),
  createPost: (body: { channel_id: string; message: string; root_id?: string; file_ids?: string[]; pending_post_id?: string }) => post<Post>('/posts', body),
  editPost: (postId: string, message: string) => put<Post>(`/posts/${q(postId)}/patch`, { message }),
  deletePost: (postId: string) => del<unknown>(`/posts/${q(postId)}`),
  pin: (postId: string, pinned: boolean) => post<unknown>(`/posts/${q(postId)}/${pinned ? 'pin' : 'unpin'}`),
  react: (userId: string, postId: string, emoji: string) => post<Reaction>('/reactions', { user_id: userId, post_id: postId, emoji_name: emoji }),
  unreact: (postId: string, emoji: string) => del<unknown>(`/users/me/posts/${q(postId)}/reactions/${q(emoji)}`),
  usersByIds: (ids: string[]) => post<User[]>('/users/ids', ids),
  teamUsers: (teamId: string, page: number) => get<User[]>(`/users?in_team=${q(teamId)}&page=${page}&per_page=200&active=true`),
  search: (teamId: string, body: unknown) => post<SearchResults>(`/teams/${q(teamId)}/posts/search`, body),
  fileUrl: (fileId: string, download = false) => `${API}/files/${q(fileId)}${download ? '?download=1' : ''}`,
  thumbnailUrl: (fileId: string) => `${API}/files/${q(fileId)}/thumbnail`,
};

export interface UploadResult {
  file_infos: FileInfo[];
  client_ids: string[];
}

export interface Upload {
  promise: Promise<FileInfo>;
  abort(): void;
}

/**
 * Uploads one file with XMLHttpRequest, which (unlike fetch) reports upload progress.
 * `onProgress` receives 0..1.
 */
export function uploadFile(channelId: string, file: File, clientId: string, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<FileInfo>((resolve, reject) => {
    const form = new FormData();
    form.append('channel_id', channelId);
    form.append('client_ids', clientId);
    form.append('files', file, file.name);
    xhr.open('POST', `${API}/files`);
    for (const [name, value] of Object.entries(requestHeaders('POST'))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) {
        onProgress(1);
        resolve((body as UploadResult).file_infos[0]);
        return;
      }
      if (xhr.status === 401) for (const listener of expiredListeners) listener();
      reject(new ApiError(xhr.status, body as AppErrorBody | undefined, `Upload failed with ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, undefined, 'The upload was interrupted. Check your connection.'));
    xhr.onabort = () => reject(new ApiError(0, undefined, 'Upload cancelled.'));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
