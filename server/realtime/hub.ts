import type { Knex } from 'knex';
import type { RawData, WebSocket } from 'ws';
import { resolveToken, type SessionPolicy, type SessionRow } from '../auth/sessions.ts';
import { newId } from '../lib/ids.ts';
import type { Logger } from '../lib/logger.ts';
import type { UserRow } from '../users/presenter.ts';
import { handleAction, requestProblem } from './actions.ts';
import { Connection, type DeliveryLimits } from './connection.ts';
import type { EventBus, ServerEvent } from './events.ts';
import { membershipChanges } from './invalidation.ts';
import { MembershipCache, type Members } from './membership.ts';
import { liveSessions, touchSession } from './session-check.ts';
import { eventHead, failReply, helloHead, okReply, parseRequest, type ClientRequest } from './wire.ts';

export interface HubSettings extends DeliveryLimits {
  /** A socket that has not authenticated within this time is closed. */
  authTimeoutMs: number;
  /** Protocol pings; a socket that misses one pong is dropped. */
  pingIntervalMs: number;
  /** How often every connected session is checked against the database. */
  revalidateIntervalMs: number;
  /** How long a disconnected connection can be resumed with `connection_id` + `sequence_number`. */
  resumeWindowMs: number;
  /** Housekeeping: auth timeouts, expired sessions, forgotten dormant connections. */
  sweepIntervalMs: number;
  membershipTtlMs: number;
  membershipCacheSize: number;
  /** Events waiting for delivery beyond this are dropped (the database is likely unreachable). */
  maxQueuedEvents: number;
}

export const defaultHubSettings: HubSettings = {
  authTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  revalidateIntervalMs: 30_000,
  resumeWindowMs: 5 * 60_000,
  sweepIntervalMs: 2_000,
  replaySize: 128,
  slowBytes: 256 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  membershipTtlMs: 60_000,
  membershipCacheSize: 5_000,
  maxQueuedEvents: 50_000,
};

export interface HubDeps {
  db: Knex;
  logger: Logger;
  events: EventBus;
  sessionPolicy: SessionPolicy;
  settings?: Partial<HubSettings>;
}

/** A session and user a socket proved, from `resolveToken`. */
export interface Authenticated {
  session: SessionRow;
  user: UserRow;
}

/** What a reconnecting client asks for: `?connection_id=...&sequence_number=...`. */
export interface ResumeRequest {
  connectionId: string;
  /** The next `seq` the client expects. */
  sequence: number;
}

interface Pending {
  since: number;
  resume?: ResumeRequest;
  authenticating: boolean;
  /** Requests that arrived while the authentication challenge was being checked. */
  backlog?: ClientRequest[];
}

export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNSUPPORTED = 1003;
export const CLOSE_MALFORMED = 1007;
/** Authentication failed, timed out, or the session ended (revoked, expired, user deactivated). */
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL = 1011;

// Events a busy or absent client can do without (Mattermost drops the same ones for slow clients).
const droppableEvents = new Set(['typing', 'status_change', 'multiple_channels_viewed']);
const MAX_BACKLOG = 32;
// After writing this much in one go, dispatch lets sockets flush before the next event, so a burst
// does not make readers that keep up look like slow consumers.
const BURST_CHARS = 1024 * 1024;
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Routes `services.events` to WebSocket connections and owns their lifecycle.
 *
 * Routing (Mattermost's rules): `broadcast.user_id` → that user's connections; else
 * `broadcast.channel_id` → current channel members; else `broadcast.team_id` → current team members;
 * else everyone. `omit_users` always applies. Membership is cached and invalidated by the events in
 * `MEMBERSHIP_EVENTS` (see invalidation.ts) and by `invalidateChannel/Team/User`.
 *
 * Events are delivered one at a time in publish order; each is serialised once and shared by every
 * recipient, which only appends its own `seq`.
 *
 * Sessions: `disconnectUser(userId)` and `disconnectSession(sessionId)` close sockets at once (call them
 * when revoking sessions or deactivating users); every `revalidateIntervalMs` all connected sessions
 * are re-checked and dead ones closed, and sockets whose session reached `expires_at` are closed.
 */
export class Hub {
  readonly settings: HubSettings;
  readonly members: MembershipCache;
  readonly events: EventBus;
  private readonly db: Knex;
  private readonly logger: Logger;
  private readonly sessionPolicy: SessionPolicy;
  private readonly connections = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly bySocket = new Map<WebSocket, Connection>();
  private readonly pending = new Map<WebSocket, Pending>();
  private queue: ServerEvent[] = [];
  private dispatching = false;
  private burst = 0;
  private settledWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private revalidating = false;
  private stopped = false;

  constructor(deps: HubDeps) {
    this.db = deps.db;
    this.logger = deps.logger;
    this.events = deps.events;
    this.sessionPolicy = deps.sessionPolicy;
    this.settings = { ...defaultHubSettings, ...deps.settings };
    this.members = new MembershipCache(deps.db, { ttlMs: this.settings.membershipTtlMs, maxEntries: this.settings.membershipCacheSize });
  }

  /** Subscribes to the event bus and starts the keepalive, housekeeping and session timers. */
  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.events.subscribe((event) => this.onEvent(event));
    const every = (ms: number, fn: () => void) => this.timers.push(setInterval(fn, ms).unref());
    every(this.settings.pingIntervalMs, () => this.ping());
    every(this.settings.sweepIntervalMs, () => this.sweep());
    every(this.settings.revalidateIntervalMs, () => {
      if (this.revalidating) return;
      this.revalidating = true;
      this.revalidateSessions()
        .catch((err: unknown) => this.logger.error({ err }, 'could not re-check websocket sessions'))
        .finally(() => (this.revalidating = false));
    });
  }

  /** Closes every socket (1001) and forgets all connections. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    const sockets = [...this.pending.keys(), ...this.bySocket.keys()];
    this.pending.clear();
    this.bySocket.clear();
    this.connections.clear();
    this.byUser.clear();
    this.queue = [];
    this.members.clear();
    await Promise.all(sockets.map((ws) => closeSoon(ws, CLOSE_GOING_AWAY, 'server shutting down')));
  }

  /** Takes over an upgraded socket: authenticated already (header/cookie) or waiting for a challenge. */
  accept(ws: WebSocket, auth: Authenticated | undefined, resume: ResumeRequest | undefined): void {
    if (this.stopped) {
      ws.close(CLOSE_GOING_AWAY, 'server shutting down');
      return;
    }
    ws.on('error', (err) => this.logger.debug({ err }, 'websocket error'));
    ws.on('close', () => this.onClose(ws));
    ws.on('pong', () => {
      const conn = this.bySocket.get(ws);
      if (conn) conn.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    if (auth) this.register(ws, auth, resume);
    else this.pending.set(ws, { since: Date.now(), resume, authenticating: false });
  }

  /**
   * Closes every socket of a user (1008) and forgets their connections, so nothing can be resumed.
   * Call after revoking the user's sessions or deactivating them. Returns how many sockets closed.
   */
  disconnectUser(userId: string, reason = 'session revoked'): number {
    let closed = 0;
    for (const conn of [...(this.byUser.get(userId) ?? [])]) if (this.remove(conn, reason)) closed++;
    return closed;
  }

  /** Closes the sockets of one session (logout, revocation). Returns how many sockets closed. */
  disconnectSession(sessionId: string, reason = 'session revoked'): number {
    let closed = 0;
    for (const conn of [...this.connections.values()]) if (conn.sessionId === sessionId && this.remove(conn, reason)) closed++;
    return closed;
  }

  /** Forget cached membership; the next event for it reloads from the database. */
  invalidateChannel(channelId: string): void {
    this.members.invalidateChannel(channelId);
  }

  invalidateTeam(teamId: string): void {
    this.members.invalidateTeam(teamId);
  }

  invalidateUser(userId: string): void {
    this.members.invalidateUser(userId);
  }

  /** True when the user has at least one open socket. */
  isOnline(userId: string): boolean {
    for (const conn of this.byUser.get(userId) ?? []) if (conn.socket) return true;
    return false;
  }

  /** `online` for users with an open socket; with `userIds`, `offline` for the others. */
  statuses(userIds?: string[]): Record<string, 'online' | 'offline'> {
    const out: Record<string, 'online' | 'offline'> = {};
    if (userIds) {
      for (const id of userIds) out[id] = this.isOnline(id) ? 'online' : 'offline';
      return out;
    }
    for (const id of this.byUser.keys()) if (this.isOnline(id)) out[id] = 'online';
    return out;
  }

  /** Records client activity on the connection's session (for idle timeouts), at most once a minute. */
  touch(conn: Connection): void {
    const now = Date.now();
    if (now - conn.lastTouchAt < TOUCH_INTERVAL_MS) return;
    conn.lastTouchAt = now;
    touchSession(this.db, conn.sessionId, now).catch((err: unknown) => this.logger.warn({ err }, 'could not record session activity'));
  }

  /**
   * Re-checks every connected session against the database now and closes the sockets of sessions
   * that were revoked, expired, went idle or whose user was deactivated. Returns sockets closed.
   */
  async revalidateSessions(now = Date.now()): Promise<number> {
    if (this.connections.size === 0) return 0;
    const checked = new Set<string>();
    for (const conn of this.connections.values()) checked.add(conn.sessionId);
    const live = await liveSessions(this.db, [...checked], this.sessionPolicy, now);
    let closed = 0;
    for (const conn of [...this.connections.values()]) {
      if (!checked.has(conn.sessionId)) continue;
      const expiresAt = live.get(conn.sessionId);
      if (expiresAt === undefined) {
        if (this.remove(conn, 'session expired')) closed++;
      } else conn.expiresAt = expiresAt;
    }
    return closed;
  }

  /**
   * Housekeeping, run every `sweepIntervalMs`: closes sockets that did not authenticate in time or
   * whose session reached its expiry, and forgets dormant connections past the resume window.
   */
  sweep(now = Date.now()): void {
    for (const [ws, pending] of this.pending) {
      if (now - pending.since < this.settings.authTimeoutMs) continue;
      this.pending.delete(ws);
      ws.close(CLOSE_POLICY, 'authentication timeout');
    }
    for (const conn of [...this.connections.values()]) {
      if (conn.socket === null) {
        if (now - conn.detachedAt >= this.settings.resumeWindowMs) this.remove(conn, '');
      } else if (conn.expiresAt <= now) this.remove(conn, 'session expired');
    }
  }

  /** Resolves once every event published so far has been delivered (or dropped). */
  settled(): Promise<void> {
    if (!this.dispatching && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Counts for metrics and tests. */
  stats(): { open: number; dormant: number; unauthenticated: number; users: number; queued: number } {
    return {
      open: this.bySocket.size,
      dormant: this.connections.size - this.bySocket.size,
      unauthenticated: this.pending.size,
      users: this.byUser.size,
      queued: this.queue.length,
    };
  }

  // ---- sockets ----

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      ws.close(CLOSE_UNSUPPORTED, 'binary messages are not supported');
      return;
    }
    const req = parseRequest(textOf(data));
    if (!req) {
      ws.close(CLOSE_MALFORMED, 'malformed message');
      return;
    }
    const conn = this.bySocket.get(ws);
    if (conn) {
      handleAction(this, conn, req);
      return;
    }
    const pending = this.pending.get(ws);
    if (!pending) return;
    if (pending.authenticating) {
      pending.backlog ??= [];
      if (pending.backlog.length >= MAX_BACKLOG) ws.close(CLOSE_POLICY, 'too many requests before authentication');
      else pending.backlog.push(req);
      return;
    }
    const problem = requestProblem(req);
    if (problem) sendText(ws, problem);
    else if (req.action === 'authentication_challenge') this.challenge(ws, pending, req);
    else sendText(ws, failReply(req.seq, 'api.web_socket_router.not_authenticated.app_error', 'The WebSocket connection is not authenticated.', 401));
  }

  private challenge(ws: WebSocket, pending: Pending, req: ClientRequest): void {
    const token = req.data.token;
    if (typeof token !== 'string' || !token) {
      this.pending.delete(ws);
      ws.close(CLOSE_POLICY, 'authentication failed');
      return;
    }
    pending.authenticating = true;
    resolveToken(this.db, token, this.sessionPolicy).then(
      (auth) => {
        if (this.pending.get(ws) !== pending) return;
        if (!auth) {
          this.pending.delete(ws);
          ws.close(CLOSE_POLICY, 'authentication failed');
          return;
        }
        const conn = this.register(ws, auth, pending.resume);
        conn.reply(okReply(req.seq), this.settings);
        for (const queued of pending.backlog ?? []) handleAction(this, conn, queued);
      },
      (err: unknown) => {
        this.logger.error({ err }, 'websocket authentication failed');
        this.pending.delete(ws);
        ws.close(CLOSE_INTERNAL, 'internal error');
      },
    );
  }

  /**
   * Binds an authenticated socket to a connection: the one named in `resume` (same user) when it
   * still holds the events the client missed, which are replayed; otherwise a fresh connection that
   * starts with `hello` at seq 0 (a new connection_id tells the client to resynchronise).
   */
  private register(ws: WebSocket, auth: Authenticated, resume: ResumeRequest | undefined): Connection {
    this.pending.delete(ws);
    const prior = resume ? this.connections.get(resume.connectionId) : undefined;
    if (resume && prior && prior.userId === auth.user.id) {
      // A client that gave up on a half-dead socket takes its connection over.
      if (prior.socket) {
        this.bySocket.delete(prior.socket);
        prior.socket.terminate();
      }
      this.attach(prior, ws, auth.session);
      if (prior.canResumeAt(resume.sequence)) {
        prior.replayFrom(resume.sequence, this.settings);
        return prior;
      }
      this.connections.delete(prior.id);
      prior.restart(newId());
      this.connections.set(prior.id, prior);
      prior.deliver(helloHead(prior.id, prior.userId), false, this.settings);
      return prior;
    }
    const conn = new Connection(newId(), auth.user.id, auth.session.id, auth.session.expires_at);
    this.connections.set(conn.id, conn);
    let forUser = this.byUser.get(conn.userId);
    if (!forUser) this.byUser.set(conn.userId, (forUser = new Set()));
    forUser.add(conn);
    this.attach(conn, ws, auth.session);
    conn.deliver(helloHead(conn.id, conn.userId), false, this.settings);
    return conn;
  }

  private attach(conn: Connection, ws: WebSocket, session: SessionRow): void {
    conn.socket = ws;
    conn.sessionId = session.id;
    conn.expiresAt = session.expires_at;
    conn.detachedAt = 0;
    conn.alive = true;
    this.bySocket.set(ws, conn);
  }

  private onClose(ws: WebSocket): void {
    if (this.pending.delete(ws)) return;
    const conn = this.bySocket.get(ws);
    if (!conn) return;
    this.bySocket.delete(ws);
    if (conn.socket === ws) {
      // Dormant: still numbering and remembering events until resumed or swept.
      conn.socket = null;
      conn.detachedAt = Date.now();
    }
  }

  /** Forgets a connection and closes its socket; true when a socket was open. */
  private remove(conn: Connection, reason: string): boolean {
    this.connections.delete(conn.id);
    const forUser = this.byUser.get(conn.userId);
    forUser?.delete(conn);
    if (forUser?.size === 0) this.byUser.delete(conn.userId);
    const socket = conn.socket;
    if (!socket) return false;
    conn.socket = null;
    this.bySocket.delete(socket);
    socket.close(CLOSE_POLICY, reason);
    return true;
  }

  private ping(): void {
    for (const [ws, conn] of this.bySocket) {
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }

  // ---- events ----

  private onEvent(event: ServerEvent): void {
    try {
      const changes = membershipChanges(event);
      if (changes) {
        for (const id of changes.channelIds) this.members.invalidateChannel(id);
        for (const id of changes.teamIds) this.members.invalidateTeam(id);
        for (const id of changes.userIds) this.members.invalidateUser(id);
        if (!changes.channelIds.length && !changes.teamIds.length && !changes.userIds.length) this.members.clear();
      }
      if (this.stopped || this.connections.size === 0) return;
      if (this.queue.length >= this.settings.maxQueuedEvents) {
        this.logger.warn({ event: event.event }, 'websocket event queue full: event dropped');
        return;
      }
      this.queue.push(event);
      if (!this.dispatching) void this.dispatch();
    } catch (err) {
      this.logger.error({ err, event: event?.event }, 'could not queue websocket event');
    }
  }

  private async dispatch(): Promise<void> {
    this.dispatching = true;
    try {
      let event: ServerEvent | undefined;
      while ((event = this.queue.shift())) {
        try {
          const waiting = this.route(event);
          if (waiting) await waiting;
        } catch (err) {
          this.logger.error({ err, event: event.event }, 'could not deliver websocket event');
        }
        if (this.burst > BURST_CHARS) {
          this.burst = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      this.dispatching = false;
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    }
  }

  private route(event: ServerEvent): Promise<void> | undefined {
    const broadcast = event.broadcast ?? {};
    if (broadcast.user_id) {
      const conns = this.byUser.get(broadcast.user_id);
      if (conns) this.deliver(event, conns);
      return undefined;
    }
    if (broadcast.channel_id) return this.toMembers(event, this.members.channel(broadcast.channel_id));
    if (broadcast.team_id) return this.toMembers(event, this.members.team(broadcast.team_id));
    this.deliver(event, this.connections.values());
    return undefined;
  }

  private toMembers(event: ServerEvent, found: Members | Promise<Members>): Promise<void> | undefined {
    if (found instanceof Promise) return found.then((members) => this.toMembers(event, members));
    const targets: Connection[] = [];
    if (found.userIds.size < this.byUser.size) {
      for (const userId of found.userIds) for (const conn of this.byUser.get(userId) ?? []) targets.push(conn);
    } else {
      for (const [userId, conns] of this.byUser) if (found.userIds.has(userId)) targets.push(...conns);
    }
    this.deliver(event, targets);
    return undefined;
  }

  private deliver(event: ServerEvent, targets: Iterable<Connection>): void {
    const omit = event.broadcast?.omit_users;
    const droppable = droppableEvents.has(event.event);
    let head: string | undefined;
    for (const conn of targets) {
      if (omit && Object.hasOwn(omit, conn.userId)) continue;
      head ??= eventHead(event);
      this.burst += conn.deliver(head, droppable, this.settings);
    }
  }
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function sendText(ws: WebSocket, text: string): void {
  if (ws.readyState === ws.OPEN) ws.send(text);
}

/** Starts the close handshake and resolves when the socket is closed, forcing it after a second. */
function closeSoon(ws: WebSocket, code: number, reason: string): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    const force = setTimeout(() => ws.terminate(), 1_000);
    force.unref();
    ws.once('close', () => clearTimeout(force));
    ws.close(code, reason);
  });
}
