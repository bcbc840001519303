import type { WebSocket } from 'ws';
import type { Connection } from './connection.ts';

/** Every connection of this process, findable by connection id, user and socket. */
export class ConnectionIndex {
  private readonly byId = new Map<string, Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly bySocket = new Map<WebSocket, Connection>();

  /** Connections, open or dormant. */
  get size(): number {
    return this.byId.size;
  }

  get openCount(): number {
    return this.bySocket.size;
  }

  get userCount(): number {
    return this.byUser.size;
  }

  get(connectionId: string): Connection | undefined {
    return this.byId.get(connectionId);
  }

  ofSocket(ws: WebSocket): Connection | undefined {
    return this.bySocket.get(ws);
  }

  forUser(userId: string): Iterable<Connection> {
    return this.byUser.get(userId) ?? [];
  }

  /** [userId, connections] pairs, for routing to a member list. */
  users(): Iterable<[string, Set<Connection>]> {
    return this.byUser.entries();
  }

  all(): Iterable<Connection> {
    return this.byId.values();
  }

  openSockets(): Iterable<[WebSocket, Connection]> {
    return this.bySocket.entries();
  }

  add(conn: Connection): void {
    this.byId.set(conn.id, conn);
    let forUser = this.byUser.get(conn.userId);
    if (!forUser) this.byUser.set(conn.userId, (forUser = new Set()));
    forUser.add(conn);
  }

  /** Re-files a connection under a new id (after `Connection.restart`). */
  renamed(conn: Connection, previousId: string): void {
    this.byId.delete(previousId);
    this.byId.set(conn.id, conn);
  }

  /** Binds `ws` to `conn`, replacing (not closing) any socket it had. */
  attach(conn: Connection, ws: WebSocket): void {
    if (conn.socket) this.bySocket.delete(conn.socket);
    conn.socket = ws;
    conn.detachedAt = 0;
    conn.alive = true;
    this.bySocket.set(ws, conn);
  }

  /** Unbinds a socket that closed; its connection turns dormant. */
  detach(ws: WebSocket, now: number): void {
    const conn = this.bySocket.get(ws);
    if (!conn) return;
    this.bySocket.delete(ws);
    if (conn.socket === ws) {
      conn.socket = null;
      conn.detachedAt = now;
    }
  }

  /** Forgets a connection entirely; returns the socket it still had, for the caller to close. */
  remove(conn: Connection): WebSocket | null {
    this.byId.delete(conn.id);
    const forUser = this.byUser.get(conn.userId);
    forUser?.delete(conn);
    if (forUser?.size === 0) this.byUser.delete(conn.userId);
    const socket = conn.socket;
    if (socket) this.bySocket.delete(socket);
    conn.socket = null;
    return socket;
  }

  isOnline(userId: string): boolean {
    for (const conn of this.forUser(userId)) if (conn.socket) return true;
    return false;
  }

  onlineUserIds(): string[] {
    return [...this.byUser.keys()].filter((id) => this.isOnline(id));
  }

  /** Empties the index; returns the sockets that were open. */
  clear(): WebSocket[] {
    const sockets = [...this.bySocket.keys()];
    this.byId.clear();
    this.byUser.clear();
    this.bySocket.clear();
    return sockets;
  }
}
