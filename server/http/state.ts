import type { ParameterizedContext } from 'koa';
import type { RouterContext } from '@koa/router';
import type { Logger } from '../lib/logger.ts';
import type { Actor } from '../auth/actor.ts';
import type { UserRow } from '../users/presenter.ts';

/** Per-request state shared by the middleware chain. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Set by authentication middleware. */
  actor?: Actor;
  /**
   * The actor's users row as authentication resolved it (possibly from the session cache, which every
   * change to a user drops on every node). Set with `actor`.
   */
  user?: UserRow;
  /** Parsed and validated body, set by `validate`. */
  body?: unknown;
}

export type AppContext = ParameterizedContext<AppState> & RouterContext<AppState>;
