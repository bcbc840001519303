import type { Middleware } from 'koa';
import { newId } from '../../lib/ids.ts';
import type { Logger } from '../../lib/logger.ts';
import type { AppState } from '../state.ts';

const inboundRequestId = /^[A-Za-z0-9_-]{8,64}$/;

/** Gives every request an id (X-Request-Id, echoed or generated), a child logger and an access log line. */
export function requestContext(logger: Logger): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const inbound = ctx.get('X-Request-Id');
    const requestId = inboundRequestId.test(inbound) ? inbound : newId();
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests log nothing at the default level.
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (log ??= logger.child({ request_id: requestId })), enumerable: true, configurable: true });
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
