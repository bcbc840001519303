import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { Router } from '@koa/router';
import type { AppState } from '../http/state.ts';
import type { ServerMetrics } from './registry.ts';

export const METRICS_PATH = '/metrics';

/**
 * Times every request into `custodian_http_request_duration_seconds`, labelled with the route pattern
 * the router matched (`/api/v4/channels/:channel_id/posts`), never the raw path: paths carry ids and
 * secrets (incoming webhook ids) and would make one series per URL. Unrouted requests share
 * `route="unmatched"`.
 */
export function requestMetrics(metrics: ServerMetrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = matched === undefined ? 'unmatched' : typeof matched === 'string' ? matched : 'pattern';
      metrics.httpDuration.observe({ method: ctx.method, route, code: String(ctx.status) }, (performance.now() - started) / 1000);
    }
  };
}

const loopback = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
// A reverse proxy on the same host makes every outside request arrive from loopback; requests it
// forwarded say so in one of these headers and are treated as remote.
const forwardedHeaders = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

export interface MetricsRequest {
  remoteAddress: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Who may scrape: a direct loopback client (not forwarded by a proxy), or anyone presenting
 * `Authorization: Bearer <CUSTODIAN_METRICS_TOKEN>` when a token is configured.
 */
export function metricsAccess(req: MetricsRequest, token: string | undefined): 'allow' | 'unauthorized' | 'forbidden' {
  const header = req.headers.authorization;
  const bearer = typeof header === 'string' ? /^bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  if (bearer !== undefined) {
    if (token && sameSecret(bearer, token)) return 'allow';
    return 'unauthorized';
  }
  const forwarded = forwardedHeaders.some((h) => req.headers[h] !== undefined);
  if (!forwarded && loopback.test(req.remoteAddress ?? '')) return 'allow';
  return token ? 'unauthorized' : 'forbidden';
}

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** `GET /metrics` in Prometheus text format, when enabled (see `metricsAccess` for who may read it). */
export function metricsRoutes(metrics: ServerMetrics, settings: { enabled: boolean; token?: string }): Router<AppState> {
  const router = new Router<AppState>();
  router.get(METRICS_PATH, async (ctx) => {
    if (!settings.enabled) {
      // Answered here so the web app's catch-all does not serve its page instead.
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'metrics are turned off (CUSTODIAN_METRICS_ENABLED)\n';
      return;
    }
    const access = metricsAccess({ remoteAddress: ctx.req.socket.remoteAddress, headers: ctx.req.headers }, settings.token);
    ctx.set('Cache-Control', 'no-store');
    if (access !== 'allow') {
      ctx.status = access === 'unauthorized' ? 401 : 403;
      if (access === 'unauthorized') ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.type = 'text/plain';
      ctx.body = access === 'unauthorized' ? 'metrics need a valid bearer token\n' : 'metrics are served to loopback clients or with a bearer token (CUSTODIAN_METRICS_TOKEN)\n';
      return;
    }
    ctx.status = 200;
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}
