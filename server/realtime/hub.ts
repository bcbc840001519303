import type { Knex } from 'knex';
import type { RawData, WebSocket } from 'ws';
import { systemRolesOf } from '../auth/actor.ts';
import { sessionActivity } from '../auth/session-activity.ts';
import { resolveToken, type SessionPolicy, type SessionRow } from '../auth/sessions.ts';
import { newId } from '../lib/ids.ts';
import type { Logger } from '../lib/logger.ts';
import type { UserRow } from '../users/presenter.ts';
import { handleAction, requestProblem } from './actions.ts';
import { ConnectionIndex } from './connection-index.ts';
import { Connection, type DeliveryLimits } from './connection.ts';
import type { EventBus, ServerEvent } from './events.ts';
import { membershipChanges, rolesChange } from './invalidation.ts';
import { MembershipCache } from './membership.ts';
import { EventRouter, type DeliveryObserver } from './router.ts';
import { liveSessions } from './session-check.ts';
import { failReply, helloHead, okReply, parseRequest, type ClientRequest } from './wire.ts';

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
  // Direct and group messages are channels too: an organisation of 10,000 people has tens of thousands.
  membershipCacheSize: 50_000,
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

const MAX_BACKLOG = 32;
// Each socket is pinged once per ping interval, but not all at once: the interval is cut into this
// many slots and each connection pings in its own. Ten thousand pings in one go held the event loop
// for over 100 ms every interval, which every request in flight then waited out.
const PING_SLOTS = 30;
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The WebSocket hub: owns every connection of this process and routes `services.events` to them
 * (see router.ts for the routing rules).
 *
 * Membership used for routing is cached and invalidated by the events in `MEMBERSHIP_EVENTS`
 * (invalidation.ts: user_added, user_removed, channel_created/deleted/restored, channel_member_updated,
 * added_to_team, leave_team, ...) and by `invalidateChannel/Team/User`.
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
  private readonly index = new ConnectionIndex();
  private readonly router: EventRouter;
  private readonly pending = new Map<WebSocket, Pending>();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private revalidating = false;
  private stopped = false;
  /** Set by the metrics (services.ts): called once per event delivered to its recipients. */
  observeDelivery?: DeliveryObserver;

  constructor(deps: HubDeps) {
    this.db = deps.db;
    this.logger = deps.logger;
    this.events = deps.events;
    this.sessionPolicy = deps.sessionPolicy;
    this.settings = { ...defaultHubSettings, ...deps.settings };
    this.members = new MembershipCache(deps.db, { ttlMs: this.settings.membershipTtlMs, maxEntries: this.settings.membershipCacheSize });
    this.router = new EventRouter({ index: this.index, members: this.members, limits: this.settings, logger: deps.logger, maxQueued: this.settings.maxQueuedEvents, onDelivered: (event, lagMs, frames) => this.observeDelivery?.(event, lagMs, frames) });
  }

  /** Subscribes to the event bus and starts the keepalive, housekeeping and session timers. */
  start(): void {
    if (this.unsubscribe || this.stopped) return;
    this.unsubscribe = this.events.subscribe((event) => this.onEvent(event));
    const every = (ms: number, fn: () => void) => this.timers.push(setInterval(fn, ms).unref());
    let pingRound = 0;
    every(Math.max(1, Math.floor(this.settings.pingIntervalMs / PING_SLOTS)), () => this.ping(pingRound++ % PING_SLOTS));
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
    const sockets = [...this.pending.keys(), ...this.index.clear()];
    this.pending.clear();
    this.router.clear();
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
    ws.on('close', () => {
      if (!this.pending.delete(ws)) this.index.detach(ws, Date.now());
    });
    ws.on('pong', () => {
      const conn = this.index.ofSocket(ws);
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
    for (const conn of [...this.index.forUser(userId)]) if (this.remove(conn, reason)) closed++;
    return closed;
  }

  /** Closes the sockets of one session (logout, revocation). Returns how many sockets closed. */
  disconnectSession(sessionId: string, reason = 'session revoked'): number {
    let closed = 0;
    for (const conn of [...this.index.all()]) if (conn.sessionId === sessionId && this.remove(conn, reason)) closed++;
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
    return this.index.isOnline(userId);
  }

  /** `online` for users with an open socket; with `userIds`, `offline` for the others. */
  statuses(userIds?: string[]): Record<string, 'online' | 'offline'> {
    const out: Record<string, 'online' | 'offline'> = {};
    if (userIds) for (const id of userIds) out[id] = this.index.isOnline(id) ? 'online' : 'offline';
    else for (const id of this.index.onlineUserIds()) out[id] = 'online';
    return out;
  }

  /** Records client activity on the connection's session (for idle timeouts), at most once a minute. */
  touch(conn: Connection): void {
    const now = Date.now();
    if (now - conn.lastTouchAt < TOUCH_INTERVAL_MS) return;
    conn.lastTouchAt = now;
    // Written with the HTTP requests' touches in one batched UPDATE: ten thousand sockets would
    // otherwise commit one UPDATE each per minute.
    sessionActivity.record(this.db, conn.sessionId, now);
  }

  /**
   * Re-checks every connected session against the database now and closes the sockets of sessions
   * that were revoked, expired, went idle or whose user was deactivated; the others take their
   * user's current system_admin standing (a group sync may have changed it). Returns sockets closed.
   */
  async revalidateSessions(now = Date.now()): Promise<number> {
    if (this.index.size === 0) return 0;
    const checked = new Set<string>();
    for (const conn of this.index.all()) checked.add(conn.sessionId);
    const live = await liveSessions(this.db, [...checked], this.sessionPolicy, now);
    let closed = 0;
    for (const conn of [...this.index.all()]) {
      if (!checked.has(conn.sessionId)) continue;
      const session = live.get(conn.sessionId);
      if (session === undefined) {
        if (this.remove(conn, 'session expired')) closed++;
      } else {
        conn.expiresAt = session.expiresAt;
        conn.systemAdmin = session.systemAdmin;
      }
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
    for (const conn of [...this.index.all()]) {
      if (conn.socket === null) {
        if (now - conn.detachedAt >= this.settings.resumeWindowMs) this.remove(conn, '');
      } else if (conn.expiresAt <= now) this.remove(conn, 'session expired');
    }
  }

  /** Resolves once every event published so far has been delivered (or dropped). */
  settled(): Promise<void> {
    return this.router.settled();
  }

  /** Counts for metrics and tests. */
  stats(): { open: number; dormant: number; unauthenticated: number; users: number; queued: number } {
    return {
      open: this.index.openCount,
      dormant: this.index.size - this.index.openCount,
      unauthenticated: this.pending.size,
      users: this.index.userCount,
      queued: this.router.queued,
    };
  }

  private onEvent(event: ServerEvent): void {
    try {
      // Invalidate before routing anything else, so the next event already sees the change.
      const changes = membershipChanges(event);
      if (changes) {
        for (const id of changes.channelIds) this.members.invalidateChannel(id);
        for (const id of changes.teamIds) this.members.invalidateTeam(id);
        for (const id of changes.userIds) this.members.invalidateUser(id);
        if (!changes.channelIds.length && !changes.teamIds.length && !changes.userIds.length) this.members.clear();
      }
      const roles = rolesChange(event);
      if (roles) for (const conn of this.index.forUser(roles.userId)) conn.systemAdmin = roles.systemAdmin;
      if (!this.stopped && this.index.size > 0 && !event.internal) this.router.enqueue(event);
    } catch (err) {
      this.logger.error({ err, event: event?.event }, 'could not queue websocket event');
    }
  }

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
    const conn = this.index.ofSocket(ws);
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
    const prior = resume ? this.index.get(resume.connectionId) : undefined;
    let conn: Connection;
    if (resume && prior && prior.userId === auth.user.id) {
      conn = prior;
      // A client that gave up on a half-dead socket takes its connection over.
      const previous = conn.socket;
      this.bindSocket(conn, ws, auth);
      previous?.terminate();
      if (conn.canResumeAt(resume.sequence)) {
        conn.replayFrom(resume.sequence, this.settings);
        return conn;
      }
      const previousId = conn.id;
      conn.restart(newId());
      this.index.renamed(conn, previousId);
    } else {
      conn = new Connection(newId(), auth.user.id, auth.session.id, auth.session.expires_at);
      this.index.add(conn);
      this.bindSocket(conn, ws, auth);
    }
    conn.deliver(helloHead(conn.id, conn.userId), false, this.settings);
    return conn;
  }

  private bindSocket(conn: Connection, ws: WebSocket, { session, user }: Authenticated): void {
    conn.sessionId = session.id;
    conn.expiresAt = session.expires_at;
    conn.systemAdmin = systemRolesOf(user).has('system_admin');
    this.index.attach(conn, ws);
  }

  /** Forgets a connection and closes its socket; true when a socket was open. */
  private remove(conn: Connection, reason: string): boolean {
    const socket = this.index.remove(conn);
    if (!socket) return false;
    socket.close(CLOSE_POLICY, reason);
    return true;
  }

  /** Pings the open sockets of one slot; one that did not answer the previous ping is dropped. */
  private ping(slot: number): void {
    for (const [ws, conn] of this.index.openSockets()) {
      if (conn.serial % PING_SLOTS !== slot) continue;
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
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
    const force = setTimeout(() => ws.terminate(), 1_000);
    force.unref();
    ws.once('close', () => {
      clearTimeout(force);
      resolve();
    });
    ws.close(code, reason);
  });
}
