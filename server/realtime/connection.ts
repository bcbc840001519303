import { WebSocket } from 'ws';
import { sendFrame, textFrame } from './frames.ts';

/** Limits every connection applies; one shared object, so connections stay small. */
export interface DeliveryLimits {
  /** Recent events kept per connection for replay after a reconnect. */
  replaySize: number;
  /** Above this many unsent bytes, droppable events (typing, status) are skipped. */
  slowBytes: number;
  /** Above this many unsent bytes the client is too slow: its socket is dropped. */
  maxBufferedBytes: number;
}

/**
 * One logical Mattermost WebSocket connection: a `connection_id`, its event sequence and the last
 * `replaySize` events it was sent. The socket may come and go: after a disconnect the connection
 * stays (dormant) for a while, still numbering and remembering events, so a client reconnecting
 * with `connection_id` and `sequence_number` gets exactly what it missed.
 *
 * Memory matters (tens of thousands per process): the replay ring holds references to event heads
 * shared by every recipient, not copies.
 */
let serials = 0;

export class Connection {
  /** A number fixed for the connection's life (spreads per-connection timers such as pings). */
  readonly serial = serials++;
  id: string;
  readonly userId: string;
  sessionId: string;
  /** Epoch ms when the session expires; checked without a database round trip. */
  expiresAt: number;
  /**
   * The user holds system_admin (directly or through a group): receives the sensitive version of
   * events that come in two. Set when a socket binds; kept current by `user_role_updated` and the
   * periodic session re-check.
   */
  systemAdmin = false;
  /** The open socket, or null while dormant. */
  socket: WebSocket | null = null;
  /** The `seq` the next event gets. */
  nextSeq = 0;
  /** A pong arrived since the last ping. */
  alive = true;
  /** When the socket went away (0 while attached). */
  detachedAt = 0;
  /** When client activity last refreshed the session's last_activity_at. */
  lastTouchAt = 0;
  private ring: Buffer[] = [];
  /** Index of the oldest entry once the ring is full. */
  private ringStart = 0;

  constructor(id: string, userId: string, sessionId: string, expiresAt: number) {
    this.id = id;
    this.userId = userId;
    this.sessionId = sessionId;
    this.expiresAt = expiresAt;
  }

  get open(): boolean {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Numbers, remembers and (when attached) sends one event. Droppable events are skipped without
   * using a sequence number when the client is slow or away, so the sequence never has gaps.
   * Returns the characters written to the socket.
   */
  deliver(head: Buffer, droppable: boolean, limits: DeliveryLimits): number {
    const socket = this.socket;
    if (droppable && (!socket || socket.bufferedAmount > limits.slowBytes)) return 0;
    const seq = this.nextSeq++;
    this.remember(head, limits.replaySize);
    return socket ? this.write(socket, textFrame(head, seq), limits) : 0;
  }

  /** Sends a reply (not numbered, not remembered). */
  reply(text: string, limits: DeliveryLimits): void {
    if (this.socket) this.write(this.socket, text, limits);
  }

  /** True when a client that expects `seq` next can continue without loss. */
  canResumeAt(seq: number): boolean {
    return seq <= this.nextSeq && seq >= this.nextSeq - this.ring.length;
  }

  /** Re-sends every remembered event from `seq` on (call after `canResumeAt`). */
  replayFrom(seq: number, limits: DeliveryLimits): void {
    const oldest = this.nextSeq - this.ring.length;
    for (let s = seq; s < this.nextSeq && this.socket; s++) {
      this.write(this.socket, textFrame(this.ring[(this.ringStart + s - oldest) % this.ring.length], s), limits);
    }
  }

  /** Starts over as a new connection: new id, sequence 0, nothing to replay. */
  restart(id: string): void {
    this.id = id;
    this.nextSeq = 0;
    this.ring = [];
    this.ringStart = 0;
  }

  private remember(head: Buffer, capacity: number): void {
    if (this.ring.length < capacity) {
      this.ring.push(head);
      return;
    }
    this.ring[this.ringStart] = head;
    this.ringStart = (this.ringStart + 1) % capacity;
  }

  /** Writes a reply (text) or an event frame (from `textFrame`); returns the bytes written. */
  private write(socket: WebSocket, data: string | Buffer, limits: DeliveryLimits): number {
    if (socket.readyState !== WebSocket.OPEN) return 0;
    if (socket.bufferedAmount > limits.maxBufferedBytes) {
      // A client that does not read is cut off rather than buffered without bound. The event is
      // remembered, so a prompt reconnect still resumes without loss.
      socket.terminate();
      return 0;
    }
    if (typeof data === 'string') socket.send(data);
    else sendFrame(socket, data);
    return data.length;
  }
}
