import net from 'node:net';
import type { TestApp } from '../support/app.ts';

/** A free TCP port on loopback (for servers whose URL must be known before they start). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** Records what the app logs from now on (the identity services log through services.logger). */
export function captureLogs(app: TestApp): { lines: LogLine[]; refusals(): string[]; clear(): void } {
  const lines: LogLine[] = [];
  const logger = app.services.logger as unknown as Record<string, (...args: unknown[]) => void>;
  for (const level of ['info', 'warn', 'error']) {
    const original = logger[level].bind(logger);
    logger[level] = (obj: unknown, msg?: unknown, ...rest: unknown[]) => {
      if (obj && typeof obj === 'object') lines.push({ level, obj: obj as Record<string, unknown>, msg: String(msg ?? '') });
      original(obj, msg, ...rest);
    };
  }
  return {
    lines,
    refusals: () => lines.filter((l) => l.obj.event === 'sso_login_refused').map((l) => String(l.obj.reason)),
    clear: () => lines.splice(0),
  };
}

/**
 * A minimal browser: a cookie jar per host name and manual redirects, so a sign-in can be driven across
 * the app and an identity provider (put them on different host names: 127.0.0.1 and localhost).
 */
export class Browser {
  readonly jar = new Map<string, Map<string, string>>();

  cookies(host: string): Map<string, string> {
    let jar = this.jar.get(host);
    if (!jar) this.jar.set(host, (jar = new Map()));
    return jar;
  }

  async request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const jar = this.cookies(target.hostname);
    const headers: Record<string, string> = { ...init.headers };
    if (jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects until `stop(url)` says so or a non-redirect answers; returns the last response and URL. */
  async follow(url: string, stop: (url: URL) => boolean = () => false, maxHops = 12): Promise<{ res: Response; url: string }> {
    let current = url;
    for (let hop = 0; hop < maxHops; hop++) {
      const res = await this.request(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current };
      const next = new URL(location, current);
      if (stop(next)) return { res, url: next.href };
      await res.arrayBuffer();
      current = next.href;
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/** Audit records with this event name, sealed or still in the outbox (the tamper-evident log). */
export async function auditRecords(app: TestApp, eventName: string): Promise<{ status: string; actor: { user_id: string }; event: { parameters: Record<string, unknown> }; error: { description?: string } }[]> {
  const rows = (await app.ownerDb.raw('SELECT record FROM audit_outbox UNION ALL SELECT record FROM audit_log')).rows as { record: string }[];
  return rows.map((r) => JSON.parse(r.record)).filter((r) => r.event_name === eventName);
}
