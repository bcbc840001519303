import { WebSocket, type RawData } from 'ws';
import { messageMaker, vocabulary } from '../lib/text.ts';
import { json, type Http, type Recorder } from './http.ts';
import type { AgentConfig, UserSpec } from './protocol.ts';

// One simulated user, after Mattermost's load model (../shared/reference/load-model.md): log in, load
// teams and channels, open a WebSocket, then loop: wait (mean 20 s × the user's rate, at least 1 s),
// pick an action by its published weight, run it over the real HTTP API. Statuses are polled every
// 60 s. Actions whose endpoints Custodian does not have are mapped to the closest request or skipped
// (and counted as skipped), see `actions` below.

/** How each action of the model is carried out here. */
export const actionTable: { name: string; weight: number; mapping: 'real' | 'mapped' | 'skipped'; note: string }[] = [
  { name: 'switch_channel', weight: 6.52, mapping: 'mapped', note: 'view old, GET 30 posts (no posts-around-unread endpoint: latest page), users by ids, statuses (WebSocket), stats, view new' },
  { name: 'scroll_channel', weight: 1.99, mapping: 'real', note: 'GET posts?before=<oldest>&per_page=30' },
  { name: 'delete_draft', weight: 1.41, mapping: 'skipped', note: 'no drafts API' },
  { name: 'unread_check', weight: 1.0, mapping: 'real', note: 'GET /users/me/channels/:id/unread' },
  { name: 'create_post', weight: 1.0, mapping: 'real', note: '18 % replies, 2 % with a file (POST /files first)' },
  { name: 'open_direct_channel', weight: 0.98, mapping: 'real', note: 'POST /channels/direct, then view it and load posts' },
  { name: 'view_global_threads', weight: 0.6, mapping: 'skipped', note: 'no threads API' },
  { name: 'upsert_draft', weight: 0.5, mapping: 'skipped', note: 'no drafts API' },
  { name: 'update_thread_read', weight: 0.32, mapping: 'skipped', note: 'no threads API' },
  { name: 'click_permalink', weight: 0.3, mapping: 'real', note: 'GET /posts/:id/thread and the channel' },
  { name: 'view_thread', weight: 0.28, mapping: 'real', note: 'GET /posts/:id/thread' },
  { name: 'reconnect_websocket', weight: 0.144, mapping: 'real', note: 'close and resume with connection_id + sequence_number' },
  { name: 'add_reaction', weight: 0.13, mapping: 'real', note: 'POST /reactions' },
  { name: 'edit_post', weight: 0.04, mapping: 'real', note: 'PUT /posts/:id/patch on an own post' },
  { name: 'search_users', weight: 0.032, mapping: 'mapped', note: 'no user search: GET /users?in_team (the member list)' },
  { name: 'search_posts', weight: 0.022, mapping: 'real', note: 'POST /teams/:id/posts/search, two words' },
  { name: 'search_channels', weight: 0.015, mapping: 'mapped', note: 'no channel search: GET /teams/:id/channels (browse channels)' },
  { name: 'join_channel', weight: 0.005, mapping: 'real', note: 'POST /channels/:id/members' },
  { name: 'delete_post', weight: 0.005, mapping: 'real', note: 'DELETE /posts/:id on an own post' },
  { name: 'logout_login', weight: 0.0006, mapping: 'real', note: 'POST /users/logout, POST /users/login (argon2), new WebSocket' },
];
const totalWeight = actionTable.reduce((s, a) => s + a.weight, 0);

/** Users' activity multipliers: 5 % ×1, 10 % ×2, 15 % ×3, 40 % ×6, 30 % ×30 (about 0.7 actions/min on average). */
function pickRate(random: () => number): number {
  const r = random();
  return r < 0.05 ? 1 : r < 0.15 ? 2 : r < 0.3 ? 3 : r < 0.7 ? 6 : 30;
}

const emojis = ['+1', 'smile', 'tada', 'eyes', 'heart', 'white_check_mark', 'rocket'];
const searchWords = ['deploy', 'release', 'meeting', 'database', 'customer', 'review', 'incident', 'budget', 'design', 'notes', 'backup', 'latency'];
const attachment = Buffer.from('Meeting notes\n'.repeat(600));

interface Channel {
  id: string;
  team_id: string;
  type: string;
  name: string;
}

interface PostRef {
  id: string;
  root_id: string;
  user_id: string;
  channel_id: string;
}

/** What every user of an agent shares. */
export interface UserEnv {
  http: Http;
  rec: Recorder;
  config: AgentConfig;
  random: () => number;
  wsUrl: string;
  /** Counts an action taken (or skipped because its endpoint does not exist). */
  action(name: string, skipped: boolean): void;
  ws: { open: number; opened: number; closedUnexpectedly: number; frames: number; posted: number; deliveryMs: number[] };
}

let makeMessage: (() => string) | undefined;

export class SimUser {
  readonly spec: UserSpec;
  running = false;
  private readonly env: UserEnv;
  private readonly rate: number;
  private token: string;
  private stopped = false;
  private wake?: () => void;
  private timer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private socket?: WebSocket;
  private connectionId = '';
  private lastSeq = -1;
  private wsSeq = 1;
  private readonly wsPending = new Map<number, number>();
  private teams: string[] = [];
  private channels: Channel[] = [];
  private current?: Channel;
  private posts: PostRef[] = [];
  private oldest = '';
  private readonly own: string[] = [];
  private readonly knownUsers = new Set<string>();

  constructor(env: UserEnv, spec: UserSpec) {
    this.env = env;
    this.spec = spec;
    this.token = spec.token;
    this.rate = pickRate(env.random);
    makeMessage ??= messageMaker(vocabulary(), 1000 + env.config.agent);
  }

  /** Logs in, loads the initial state, opens the WebSocket, then runs the action loop until `stop()`. */
  async run(): Promise<void> {
    if (this.spec.realLogin && !(await this.login())) return;
    if (this.stopped) return;
    await this.initialLoad();
    if (this.stopped) return;
    this.openSocket(false);
    this.running = true;
    this.statusTimer = setInterval(() => this.pollStatuses(), 60_000 * this.env.config.waitScale + this.env.random() * 1000);
    this.statusTimer.unref();
    // Spread users out: the first action comes after a random part of a wait.
    await this.sleep(this.env.random() * this.waitMs());
    while (!this.stopped) {
      await this.act(this.pickAction());
      if (this.stopped) break;
      await this.sleep(this.waitMs());
    }
  }

  stop(): void {
    this.stopped = true;
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.statusTimer);
    this.wake?.();
    this.dropSocket();
  }

  private waitMs(): number {
    const mean = 20_000 * this.rate;
    return Math.max(1000, -Math.log(1 - this.env.random()) * mean) * this.env.config.waitScale;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private pickAction(): string {
    let r = this.env.random() * totalWeight;
    for (const a of actionTable) {
      r -= a.weight;
      if (r <= 0) return a.name;
    }
    return 'switch_channel';
  }

  private get http() {
    return this.env.http;
  }

  private pick<T>(items: T[]): T | undefined {
    return items.length ? items[Math.floor(this.env.random() * items.length)] : undefined;
  }

  private async login(): Promise<boolean> {
    const res = await this.http.send('POST /users/login', 'POST', '/api/v4/users/login', { json: { login_id: this.spec.username, password: this.env.config.password } });
    const token = res?.status === 200 ? res.headers.token : undefined;
    if (typeof token !== 'string') return false;
    this.token = token;
    return true;
  }

  private async initialLoad(): Promise<void> {
    const token = this.token;
    await this.http.send('GET /users/me', 'GET', '/api/v4/users/me', { token });
    const teams = json<{ id: string }[]>(await this.http.send('GET /users/:id/teams', 'GET', '/api/v4/users/me/teams', { token })) ?? [];
    this.teams = teams.map((t) => t.id);
    for (const teamId of this.teams) {
      const channels = json<Channel[]>(await this.http.send('GET /users/:id/teams/:id/channels', 'GET', `/api/v4/users/me/teams/${teamId}/channels`, { token })) ?? [];
      this.channels.push(...channels);
      await this.http.send('GET /users/:id/teams/:id/channels/members', 'GET', `/api/v4/users/me/teams/${teamId}/channels/members`, { token });
    }
    const home = this.channels.find((c) => c.name === 'town-square') ?? this.channels[0];
    if (home) await this.switchTo(home);
  }

  private async act(name: string): Promise<void> {
    const token = this.token;
    const http = this.http;
    const skipped = actionTable.find((a) => a.name === name)?.mapping === 'skipped';
    this.env.action(name, skipped);
    if (skipped) return;
    switch (name) {
      case 'switch_channel': {
        const teamChannels = this.channels.filter((c) => c.id !== this.current?.id && (c.team_id === this.current?.team_id || c.team_id === '' || !this.current?.team_id));
        const next = this.pick(teamChannels) ?? this.pick(this.channels);
        if (next) await this.switchTo(next);
        return;
      }
      case 'scroll_channel': {
        if (!this.current) return;
        const before = this.oldest ? `&before=${this.oldest}` : '&page=1';
        const page = json<{ order: string[]; posts: Record<string, PostRef> }>(await http.send('GET /channels/:id/posts', 'GET', `/api/v4/channels/${this.current.id}/posts?per_page=30${before}`, { token }));
        if (page?.order.length) this.oldest = page.order[page.order.length - 1];
        return;
      }
      case 'unread_check': {
        const channel = this.pick(this.channels);
        if (channel) await http.send('GET /users/:id/channels/:id/unread', 'GET', `/api/v4/users/me/channels/${channel.id}/unread`, { token });
        return;
      }
      case 'create_post':
        return this.createPost();
      case 'open_direct_channel': {
        const other = this.pick(this.env.config.userIds);
        if (!other || other === this.spec.userId) return;
        const channel = json<Channel>(await http.send('POST /channels/direct', 'POST', '/api/v4/channels/direct', { token, json: [this.spec.userId, other] }));
        if (!channel) return;
        if (!this.channels.some((c) => c.id === channel.id)) this.channels.push(channel);
        await this.switchTo(channel);
        return;
      }
      case 'click_permalink': {
        const post = this.pick(this.posts);
        if (!post) return;
        await http.send('GET /posts/:id/thread', 'GET', `/api/v4/posts/${post.id}/thread`, { token });
        await http.send('GET /channels/:id', 'GET', `/api/v4/channels/${post.channel_id}`, { token });
        return;
      }
      case 'view_thread': {
        const post = this.pick(this.posts);
        if (post) await http.send('GET /posts/:id/thread', 'GET', `/api/v4/posts/${post.root_id || post.id}/thread`, { token });
        return;
      }
      case 'reconnect_websocket':
        this.reconnect();
        return;
      case 'add_reaction': {
        const post = this.pick(this.posts);
        if (post) await http.send('POST /reactions', 'POST', '/api/v4/reactions', { token, json: { user_id: this.spec.userId, post_id: post.id, emoji_name: this.pick(emojis) } });
        return;
      }
      case 'edit_post': {
        const id = this.pick(this.own);
        if (id) await http.send('PUT /posts/:id/patch', 'PUT', `/api/v4/posts/${id}/patch`, { token, json: { message: `${makeMessage!()} (edited)` } });
        return;
      }
      case 'search_users': {
        const team = this.current?.team_id || this.teams[0];
        if (team) await http.send('GET /users?in_team', 'GET', `/api/v4/users?in_team=${team}&page=0&per_page=25`, { token });
        return;
      }
      case 'search_posts': {
        const team = this.current?.team_id || this.teams[0];
        const terms = `${this.pick(searchWords)} ${this.pick(searchWords)}`;
        if (team) await http.send('POST /teams/:id/posts/search', 'POST', `/api/v4/teams/${team}/posts/search`, { token, json: { terms, is_or_search: false, time_zone_offset: 0, page: 0, per_page: 20 } });
        return;
      }
      case 'search_channels': {
        const team = this.current?.team_id || this.teams[0];
        if (team) await http.send('GET /teams/:id/channels', 'GET', `/api/v4/teams/${team}/channels?page=0&per_page=50`, { token });
        return;
      }
      case 'join_channel': {
        const team = this.current?.team_id || this.teams[0];
        if (!team) return;
        const open = json<Channel[]>(await http.send('GET /teams/:id/channels', 'GET', `/api/v4/teams/${team}/channels?page=0&per_page=100`, { token })) ?? [];
        const candidate = this.pick(open.filter((c) => !this.channels.some((m) => m.id === c.id)));
        if (!candidate) return;
        const res = await http.send('POST /channels/:id/members', 'POST', `/api/v4/channels/${candidate.id}/members`, { token, json: { user_id: this.spec.userId } });
        if (res && res.status < 300) this.channels.push(candidate);
        return;
      }
      case 'delete_post': {
        const id = this.own.pop();
        if (id) await http.send('DELETE /posts/:id', 'DELETE', `/api/v4/posts/${id}`, { token });
        this.posts = this.posts.filter((p) => p.id !== id);
        return;
      }
      case 'logout_login': {
        await http.send('POST /users/logout', 'POST', '/api/v4/users/logout', { token });
        this.dropSocket();
        this.connectionId = '';
        if (!(await this.login())) return;
        this.openSocket(false);
        return;
      }
    }
  }

  /** Mattermost's channel switch: view the old channel, load the new one's posts, authors, their statuses and stats, view it. */
  private async switchTo(channel: Channel): Promise<void> {
    const token = this.token;
    const http = this.http;
    if (this.current) await http.send('POST /channels/members/:id/view', 'POST', '/api/v4/channels/members/me/view', { token, json: { channel_id: this.current.id } });
    this.current = channel;
    const page = json<{ order: string[]; posts: Record<string, PostRef> }>(await http.send('GET /channels/:id/posts', 'GET', `/api/v4/channels/${channel.id}/posts?page=0&per_page=30`, { token }));
    this.posts = page ? page.order.map((id) => page.posts[id]).filter(Boolean) : [];
    this.oldest = page?.order.at(-1) ?? '';
    const authors = [...new Set(this.posts.map((p) => p.user_id))];
    const unknown = authors.filter((id) => !this.knownUsers.has(id));
    if (unknown.length) {
      await http.send('POST /users/ids', 'POST', '/api/v4/users/ids', { token, json: unknown });
      for (const id of unknown) this.knownUsers.add(id);
    }
    if (authors.length) this.wsRequest('get_statuses_by_ids', { user_ids: authors });
    await http.send('GET /channels/:id/stats', 'GET', `/api/v4/channels/${channel.id}/stats`, { token });
    await http.send('POST /channels/members/:id/view', 'POST', '/api/v4/channels/members/me/view', { token, json: { channel_id: channel.id, prev_channel_id: '' } });
  }

  private async createPost(): Promise<void> {
    if (!this.current) return;
    const token = this.token;
    const body: Record<string, unknown> = { channel_id: this.current.id, message: `${makeMessage!()} ~t${Date.now()}` };
    const r = this.env.random();
    if (r < 0.18) {
      const parent = this.pick(this.posts);
      if (parent) body.root_id = parent.root_id || parent.id;
    } else if (r < 0.2) {
      const boundary = `----bench${Math.floor(this.env.random() * 1e12)}`;
      const multipart = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="channel_id"\r\n\r\n${this.current.id}\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n`),
        attachment,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const uploaded = json<{ file_infos: { id: string }[] }>(await this.http.send('POST /files', 'POST', '/api/v4/files', { token, body: multipart, contentType: `multipart/form-data; boundary=${boundary}` }));
      if (uploaded?.file_infos[0]) body.file_ids = [uploaded.file_infos[0].id];
    }
    const post = json<PostRef>(await this.http.send('POST /posts', 'POST', '/api/v4/posts', { token, json: body }));
    if (post) {
      this.own.push(post.id);
      if (this.own.length > 20) this.own.shift();
      this.posts.unshift(post);
    }
  }

  /** Every 60 s: statuses of the users the client shows (WebSocket action; there is no HTTP status API). */
  private pollStatuses(): void {
    const ids = [...this.knownUsers].slice(0, 100);
    if (ids.length) this.wsRequest('get_statuses_by_ids', { user_ids: ids });
  }

  private wsRequest(action: string, data: Record<string, unknown>): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const seq = this.wsSeq++;
    this.wsPending.set(seq, performance.now());
    socket.send(JSON.stringify({ seq, action, data }));
  }

  private openSocket(resume: boolean): void {
    if (this.stopped) return;
    const query = resume && this.connectionId ? `?connection_id=${this.connectionId}&sequence_number=${this.lastSeq + 1}` : '';
    const started = performance.now();
    const socket = new WebSocket(this.env.wsUrl + query, { headers: { Authorization: `Bearer ${this.token}` }, perMessageDeflate: false, handshakeTimeout: this.env.config.timeoutMs });
    this.socket = socket;
    const env = this.env;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      env.ws.open++;
      env.ws.opened++;
      env.rec.request(resume ? 'WS reconnect' : 'WS connect', performance.now() - started, 101);
    });
    socket.on('message', (data: RawData) => this.onFrame(data as Buffer));
    socket.on('error', () => undefined);
    socket.on('unexpected-response', (_req, res) => {
      env.rec.request(resume ? 'WS reconnect' : 'WS connect', performance.now() - started, res.statusCode ?? 'error', `websocket upgrade ${res.statusCode}`);
      socket.terminate();
    });
    socket.on('close', () => {
      if (opened) env.ws.open--;
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (!opened) env.rec.request(resume ? 'WS reconnect' : 'WS connect', performance.now() - started, 'error', 'websocket failed to open');
      if (this.stopped) return;
      env.ws.closedUnexpectedly++;
      // Like the web app: come back after a moment and resume.
      setTimeout(() => this.openSocket(true), 1000 + this.env.random() * 2000).unref();
    });
  }

  private reconnect(): void {
    this.dropSocket();
    this.openSocket(true);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    if (socket.readyState === WebSocket.OPEN) this.env.ws.open--;
    socket.removeAllListeners('close');
    socket.on('close', () => undefined);
    socket.terminate();
  }

  /** Reads only what the client needs from a frame: its seq (for resume), replies, and `posted` arrival times. */
  private onFrame(data: Buffer): void {
    const env = this.env;
    env.ws.frames++;
    if (data[2] === 0x73 /* {"status"... a reply */) {
      const text = data.toString('utf8');
      const m = /"seq_reply":(\d+)/.exec(text);
      const started = m ? this.wsPending.get(Number(m[1])) : undefined;
      if (started !== undefined) {
        this.wsPending.delete(Number(m![1]));
        env.rec.request('WS get_statuses_by_ids', performance.now() - started, text.startsWith('{"status":"OK"') ? 200 : 500, text.startsWith('{"status":"OK"') ? undefined : text.slice(0, 160));
      }
      return;
    }
    const seqAt = data.lastIndexOf('"seq":');
    if (seqAt > 0) this.lastSeq = Number(data.subarray(seqAt + 6, data.length - 1).toString('latin1'));
    if (data.indexOf('{"event":"posted"') === 0) {
      env.ws.posted++;
      const marker = data.indexOf('~t');
      if (marker > 0) {
        const sent = Number(data.subarray(marker + 2, marker + 15).toString('latin1'));
        if (sent > 0) env.ws.deliveryMs.push(Date.now() - sent);
      }
    } else if (data.indexOf('{"event":"hello"') === 0) {
      const m = /"connection_id":"([a-z0-9]{26})"/.exec(data.toString('utf8'));
      if (m) this.connectionId = m[1];
    }
  }
}
