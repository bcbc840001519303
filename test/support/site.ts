// A small HTTP client for a Custodian running as a separate process (a release tarball, a restored data
// directory), and a sample of data to write before a backup or upgrade and to read back after it.
import crypto from 'node:crypto';

export interface ApiResponse {
  status: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  body: Buffer;
}

export async function api(base: string, method: string, path: string, options: { token?: string; body?: unknown; form?: FormData } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | FormData | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(`${base}/api/v4${path}`, { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers, body: bytes };
}

export async function login(base: string, loginId: string, password: string): Promise<string> {
  const res = await api(base, 'POST', '/users/login', { body: { login_id: loginId, password } });
  const token = res.headers.get('token');
  if (res.status !== 200 || !token) throw new Error(`login as ${loginId} failed: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
  return token;
}

function expectStatus(res: ApiResponse, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
}

export interface SiteSample {
  teamId: string;
  channelId: string;
  postIds: string[];
  messages: string[];
  fileId: string;
  fileSha256: string;
}

/** Creates a team, a channel, posts (one with non-ASCII text, one reply, one with a file) as `token`. */
export async function populate(base: string, token: string, tag = crypto.randomBytes(3).toString('hex')): Promise<SiteSample> {
  const team = await api(base, 'POST', '/teams', { token, body: { name: `sample-${tag}`, display_name: `Sample ${tag}`, type: 'O' } });
  expectStatus(team, 201, 'create team');
  const channel = await api(base, 'POST', '/channels', { token, body: { team_id: team.json.id, name: `records-${tag}`, display_name: 'Records', type: 'O' } });
  expectStatus(channel, 201, 'create channel');
  const content = crypto.randomBytes(200_000);
  const form = new FormData();
  form.append('channel_id', channel.json.id);
  form.append('files', new Blob([content], { type: 'application/octet-stream' }), 'evidence.bin');
  const upload = await api(base, 'POST', '/files', { token, form });
  expectStatus(upload, 201, 'upload file');
  const fileId = upload.json.file_infos[0].id as string;
  const messages = [`quarterly ledger ${tag} reconciled`, `Grüße aus Zürich ✓ ${tag} — 日本語 🚀`, `reply about ledger ${tag}`, `attachment ${tag}`];
  const postIds: string[] = [];
  for (const [i, message] of messages.entries()) {
    const body: Record<string, unknown> = { channel_id: channel.json.id, message };
    if (i === 2) body.root_id = postIds[0];
    if (i === 3) body.file_ids = [fileId];
    const post = await api(base, 'POST', '/posts', { token, body });
    expectStatus(post, 201, `post ${i}`);
    postIds.push(post.json.id);
  }
  return { teamId: team.json.id, channelId: channel.json.id, postIds, messages, fileId, fileSha256: crypto.createHash('sha256').update(content).digest('hex') };
}

/** Reads the sample back; throws with a description of the first difference. */
export async function checkSample(base: string, token: string, sample: SiteSample): Promise<void> {
  for (const [i, id] of sample.postIds.entries()) {
    const post = await api(base, 'GET', `/posts/${id}`, { token });
    expectStatus(post, 200, `read post ${i}`);
    if (post.json.message !== sample.messages[i]) throw new Error(`post ${i} reads ${JSON.stringify(post.json.message)}, expected ${JSON.stringify(sample.messages[i])}`);
  }
  const thread = await api(base, 'GET', `/posts/${sample.postIds[0]}/thread`, { token });
  expectStatus(thread, 200, 'read thread');
  if (!thread.json.order.includes(sample.postIds[2])) throw new Error('the reply is missing from its thread');
  const file = await api(base, 'GET', `/files/${sample.fileId}`, { token });
  expectStatus(file, 200, 'download file');
  const sha = crypto.createHash('sha256').update(file.body).digest('hex');
  if (sha !== sample.fileSha256) throw new Error(`the file downloads with SHA-256 ${sha}, expected ${sample.fileSha256}`);
}
