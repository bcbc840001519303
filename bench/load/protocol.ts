// Messages between the load coordinator and its agents (child processes, over the IPC channel).

/** One simulated user an agent should run. */
export interface UserSpec {
  index: number;
  userId: string;
  username: string;
  /** A seeded session token; unused when `realLogin`. */
  token: string;
  /** Log in with the password (argon2 on the server) instead of using the seeded session. */
  realLogin: boolean;
}

export interface AgentConfig {
  agent: number;
  baseUrl: string;
  password: string;
  /** Other users' ids, for direct messages. */
  userIds: string[];
  /** Client-side request timeout. */
  timeoutMs: number;
  /** Multiplies every wait (1 = the published model; smaller = busier users, for short smoke runs). */
  waitScale: number;
  /** Keep-alive HTTP connections per agent. */
  maxSockets: number;
  seed: number;
}

export type ToAgent =
  | { type: 'init'; config: AgentConfig }
  | { type: 'add'; users: UserSpec[] }
  | { type: 'remove'; count: number }
  | { type: 'stop' };

/** Per-endpoint counts and latencies an agent collected over one reporting interval. */
export interface AgentReport {
  type: 'report';
  agent: number;
  /** Epoch ms at the end of the interval. */
  at: number;
  /** Users running (logged in and looping) and starting. */
  users: number;
  starting: number;
  /** Latencies in ms of completed requests, by endpoint (responses of any status). */
  latency: Record<string, number[]>;
  /** 5xx responses and network errors, by endpoint. */
  errors: Record<string, number>;
  /** Requests that hit the client timeout, by endpoint. */
  timeouts: Record<string, number>;
  /** 4xx responses, by endpoint (reported, not part of the thresholds). */
  client_errors: Record<string, number>;
  /** Actions taken by the model, and actions skipped because the endpoint does not exist. */
  actions: Record<string, number>;
  skipped: Record<string, number>;
  ws: { open: number; opened: number; closed_unexpectedly: number; frames: number; posted: number; posted_delivery_ms: number[] };
  /** A few recent error descriptions, for diagnosis. */
  samples: string[];
}

export type FromAgent = AgentReport | { type: 'ready'; agent: number } | { type: 'stopped'; agent: number };
