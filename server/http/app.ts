import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from '../lib/logger.ts';
import { requestMetrics } from '../metrics/http.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { errorHandler, writeError } from './middleware/error-handler.ts';
import { requestContext } from './middleware/request-context.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import type { AppState } from './state.ts';

export interface HttpAppOptions {
  logger: Logger;
  https: boolean;
  /** Routers mounted under /api/v4. */
  apiRouters: Router<AppState>[];
  /** Routers mounted at the root (incoming webhooks, SSO callbacks, the webapp). */
  rootRouters?: Router<AppState>[];
  /** Request duration histograms by route pattern (served at /metrics). */
  metrics?: ServerMetrics;
}

/** Builds the Koa application: request context → security headers → error mapping → routes → 404. */
export function createHttpApp(options: HttpAppOptions): Koa<AppState> {
  const app = new Koa<AppState>({ proxy: false });
  app.silent = true;
  app.use(requestContext(options.logger));
  if (options.metrics) app.use(requestMetrics(options.metrics));
  app.use(securityHeaders({ https: options.https }));
  app.use(errorHandler());

  const api = new Router<AppState>({ prefix: '/api/v4' });
  for (const router of options.apiRouters) api.use(router.routes());
  app.use(api.routes());
  for (const router of options.rootRouters ?? []) app.use(router.routes());

  app.use(async (ctx) => {
    if (ctx.body !== undefined || ctx.status !== 404) return;
    writeError(ctx, 404, 'api.context.404.app_error', 'Sorry, we could not find the page.', `There is no route for ${ctx.method} ${ctx.path}.`);
  });
  return app;
}
