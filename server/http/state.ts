import type { ParameterizedContext } from 'koa';
import type { RouterContext } from '@koa/router';
import type { Logger } from '../lib/logger.ts';
import type { Actor } from '../auth/actor.ts';

/** Per-request state shared by the middleware chain. */
export interface AppState {
  requestId: string;
  log: Logger;
  /** Set by authentication middleware. */
  actor?: Actor;
  /** Parsed and validated body, set by `validate`. */
  body?: unknown;
}

export type AppContext = ParameterizedContext<AppState> & RouterContext<AppState>;
