import type { Context } from 'koa';

/**
 * Sends a JSON body with `Content-Type: application/json` exactly: Mattermost's Client4 parses a body
 * only for that value, and Koa would otherwise add `; charset=utf-8`.
 */
export function sendJson(ctx: Context, status: number, body: unknown): void {
  sendJsonText(ctx, status, JSON.stringify(body));
}

/** Sends an already-serialized JSON body (from a cache) with the same exact content type. */
export function sendJsonText(ctx: Context, status: number, json: string | Buffer): void {
  ctx.status = status;
  ctx.set('Content-Type', 'application/json');
  ctx.body = json;
}

/** The `{"status": "OK"}` answer many Mattermost endpoints give. */
export function sendOk(ctx: Context): void {
  sendJson(ctx, 200, { status: 'OK' });
}
