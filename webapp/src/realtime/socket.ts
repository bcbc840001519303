// The WebSocket connection to /api/v4/websocket. The browser's session cookie authenticates the
// upgrade. Every server event carries a `seq` that rises by one; the client keeps the next one it
// expects. After a drop it reconnects with `connection_id` and `sequence_number` so the server can
// replay what was missed; when it cannot (a new `hello` arrives) or a `seq` is skipped, the app is told
// to resynchronise (refetch) instead of trusting a hole in its state.

export interface ServerEvent {
  event: string;
  data: Record<string, unknown>;
  broadcast: { channel_id?: string; team_id?: string; user_id?: string; omit_users?: Record<string, boolean> | null };
  seq: number;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface RealtimeHandlers {
  onEvent(event: ServerEvent): void;
  /** Events may have been missed: refetch what is shown. */
  onResync(): void;
  onState(state: ConnectionState): void;
  /** The server closed the socket for policy reasons (session ended): check the session. */
  onPolicyClose?(reason: string): void;
}

export interface RealtimeOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  /** Delay before reconnect attempt n (0-based). */
  backoff?: (attempt: number) => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const OPEN = 1;
const CLOSE_POLICY = 1008;

/** 0.5 s, 1 s, 2 s, … up to 30 s, with ±20 % jitter so a restarted server is not stampeded. */
export function defaultBackoff(attempt: number): number {
  const base = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export class RealtimeClient {
  private socket: SocketLike | undefined;
  private connectionId = '';
  /** The seq of the next server event; -1 until hello. */
  private expectedSeq = -1;
  private actionSeq = 1;
  private attempt = 0;
  private timer: unknown;
  private stopped = true;
  private hadConnection = false;
  private readonly pending = new Map<number, (reply: { status: string; data?: unknown }) => void>();
  private readonly options: Required<RealtimeOptions>;
  private readonly handlers: RealtimeHandlers;

  constructor(options: RealtimeOptions, handlers: RealtimeHandlers) {
    this.handlers = handlers;
    this.options = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: defaultBackoff,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      ...options,
    };
  }

  get connected(): boolean {
    return this.socket?.readyState === OPEN && this.expectedSeq >= 0;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.options.clearTimer(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, 'bye');
    }
    this.connectionId = '';
    this.expectedSeq = -1;
    this.handlers.onState('closed');
  }

  /** Reconnects now (the browser came back online or the tab became visible), unless connected. */
  nudge(): void {
    if (this.stopped || this.socket) return;
    this.options.clearTimer(this.timer);
    this.attempt = 0;
    this.open();
  }

  /** Sends a client action; resolves with the server's reply (or undefined when not connected). */
  send(action: string, data: Record<string, unknown>): Promise<{ status: string; data?: unknown } | undefined> {
    if (!this.connected) return Promise.resolve(undefined);
    const seq = this.actionSeq++;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      this.socket!.send(JSON.stringify({ seq, action, data }));
    });
  }

  private open(): void {
    const params = this.connectionId ? `?connection_id=${encodeURIComponent(this.connectionId)}&sequence_number=${this.expectedSeq}` : '';
    this.handlers.onState(this.hadConnection ? 'reconnecting' : 'connecting');
    const socket = this.options.createSocket(this.options.url + params);
    this.socket = socket;
    socket.onopen = () => {
      // Resuming: the server replays what was missed (if anything) without a new hello.
      if (this.connectionId) {
        this.attempt = 0;
        this.handlers.onState('connected');
      }
    };
    socket.onmessage = (ev) => this.onMessage(String(ev.data));
    socket.onclose = (ev) => this.onClose(socket, ev.code, ev.reason);
    socket.onerror = () => undefined; // onclose follows and schedules the retry
  }

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg.seq_reply === 'number') {
      const resolve = this.pending.get(msg.seq_reply);
      this.pending.delete(msg.seq_reply);
      resolve?.(msg as { status: string; data?: unknown });
      return;
    }
    const event = msg as unknown as ServerEvent;
    if (typeof event.event !== 'string' || typeof event.seq !== 'number') return;
    if (event.event === 'hello') {
      const id = String(event.data?.connection_id ?? '');
      const resumedSameConnection = id !== '' && id === this.connectionId;
      this.connectionId = id;
      this.expectedSeq = event.seq + 1;
      this.attempt = 0;
      this.handlers.onState('connected');
      // A hello after an earlier connection means the server could not replay: state may be stale.
      if (this.hadConnection && !resumedSameConnection) this.handlers.onResync();
      this.hadConnection = true;
      this.handlers.onEvent(event);
      return;
    }
    if (this.expectedSeq < 0) return;
    if (event.seq !== this.expectedSeq) {
      if (event.seq < this.expectedSeq) return; // a replayed duplicate
      // Missed events: start a fresh connection and refetch.
      this.connectionId = '';
      this.expectedSeq = -1;
      this.socket?.close(4000, 'sequence gap');
      return;
    }
    this.expectedSeq++;
    this.handlers.onEvent(event);
  }

  private onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    for (const resolve of this.pending.values()) resolve({ status: 'FAIL' });
    this.pending.clear();
    if (this.stopped) return;
    if (code === CLOSE_POLICY) this.handlers.onPolicyClose?.(reason);
    this.handlers.onState('reconnecting');
    const delay = this.options.backoff(this.attempt++);
    this.timer = this.options.setTimer(() => {
      if (!this.stopped && !this.socket) this.open();
    }, delay);
  }
}

/** The WebSocket URL of the site the page came from. */
export function websocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v4/websocket`;
}
