import type { Context } from 'koa';

export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  maxAgeSeconds: number;
}

function serialize(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `Max-Age=${options.maxAgeSeconds}`, 'SameSite=Lax'];
  if (options.maxAgeSeconds > 0) parts.push(`Expires=${new Date(Date.now() + options.maxAgeSeconds * 1000).toUTCString()}`);
  else parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (options.httpOnly) parts.push('HttpOnly');
  // Secure follows the site URL, not the hop we see: TLS often ends at a reverse proxy.
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Appends Set-Cookie headers (Koa's own cookie API refuses Secure cookies behind a TLS-terminating proxy). */
export function setCookies(ctx: Context, cookies: { name: string; value: string; options: CookieOptions }[]): void {
  const existing = ctx.response.get('Set-Cookie');
  const list = Array.isArray(existing) ? existing : existing ? [String(existing)] : [];
  ctx.set('Set-Cookie', [...list, ...cookies.map((c) => serialize(c.name, c.value, c.options))]);
}
