import http from 'node:http';

/** What a request ended as: an HTTP status, or a client-side timeout / network error. */
export type Outcome = number | 'timeout' | 'error';

/** Where an agent records every request it makes. */
export interface Recorder {
  request(endpoint: string, ms: number, outcome: Outcome, detail?: string): void;
}

export interface Response {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
}

/**
 * A small keep-alive HTTP client over node:http (cheaper per request than fetch, which matters when
 * the load generator shares two cores with the server). Every request is timed and recorded under
 * an endpoint name (the route pattern, never the URL).
 */
export class Http {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly rec: Recorder;

  constructor(baseUrl: string, options: { maxSockets: number; timeoutMs: number; recorder: Recorder }) {
    const url = new URL(baseUrl);
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) throw new Error(`load goes to loopback only, not ${url.hostname}`);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.timeoutMs = options.timeoutMs;
    this.rec = options.recorder;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' });
  }

  /** Sends a request; resolves with the response, or undefined after a timeout or network error. */
  send(endpoint: string, method: string, path: string, options: { token?: string; json?: unknown; body?: Buffer; contentType?: string } = {}): Promise<Response | undefined> {
    const started = performance.now();
    const headers: Record<string, string | number> = { 'X-Requested-With': 'XMLHttpRequest' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    let payload: Buffer | undefined = options.body;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = 'application/json';
    } else if (options.contentType) headers['Content-Type'] = options.contentType;
    if (payload) headers['Content-Length'] = payload.length;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: Outcome, response?: Response, detail?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.rec.request(endpoint, performance.now() - started, outcome, detail);
        resolve(response);
      };
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          finish(status, { status, body, headers: res.headers }, status >= 400 ? `${method} ${path} ${status} ${body.subarray(0, 160).toString()}` : undefined);
        });
        res.on('error', (err) => finish('error', undefined, `${method} ${path}: ${err.message}`));
      });
      const timer = setTimeout(() => {
        finish('timeout', undefined, `${method} ${path}: timeout`);
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err) => finish('error', undefined, `${method} ${path}: ${err.message}`));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Parses a JSON body, or undefined. */
export function json<T>(res: Response | undefined): T | undefined {
  if (!res || res.status >= 300) return undefined;
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
