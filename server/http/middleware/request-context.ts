import type { Middleware } from 'koa';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Actor } from '../../auth/actor.ts';
import type { UserRow } from '../../users/presenter.ts';
import type { AppState } from '../state.ts';

const inboundRequestId = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * A request's state whose child logger is made on first use: most requests log nothing at the default
 * level, and pino serialises a child's bindings when it is made. (A class keeps one object shape; an
 * accessor defined per request would not.)
 */
class RequestState implements AppState {
  readonly requestId: string;
  actor?: Actor;
  user?: UserRow;
  body?: unknown;
  readonly #base: Logger;
  #log?: Logger;

  constructor(base: Logger, requestId: string) {
    this.#base = base;
    this.requestId = requestId;
  }

  get log(): Logger {
    return (this.#log ??= this.#base.child({ request_id: this.requestId }));
  }
}

/** Gives every request an id (X-Request-Id, echoed or generated), a child logger and an access log line. */
export function requestContext(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const inbound = ctx.get('X-Request-Id');
    const requestId = inboundRequestId.test(inbound) ? inbound : newId();
    ctx.state = new RequestState(logger, requestId);
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const failed = ctx.status >= 500;
      if (failed || logger.isLevelEnabled('debug')) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100, user_id: ctx.state.actor?.userId };
        if (failed) ctx.state.log.error(line, 'request failed');
        else ctx.state.log.debug(line, 'request');
      }
    }
  };
}
