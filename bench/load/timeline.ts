import type { AgentReport } from './protocol.ts';

// Per-second buckets of what the agents reported, and statistics over windows of them.

/** Endpoints whose latency is not part of the request-time thresholds (connection set-up). */
export const connectEndpoints = new Set(['WS connect', 'WS reconnect']);

export interface Bucket {
  second: number;
  latency: Map<string, number[]>;
  errors: Map<string, number>;
  timeouts: Map<string, number>;
  clientErrors: Map<string, number>;
  actions: Map<string, number>;
  skipped: Map<string, number>;
  wsFrames: number;
  wsPosted: number;
  wsOpened: number;
  wsClosedUnexpectedly: number;
  deliveryMs: number[];
  samples: string[];
}

export interface WindowStats {
  from: number;
  to: number;
  requests: number;
  rps: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  timeouts: number;
  error_rate: number;
  timeout_rate: number;
  client_errors: number;
}

export interface EndpointStats {
  endpoint: string;
  count: number;
  per_second: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  client_errors: number;
}

const add = (m: Map<string, number>, rec: Record<string, number>) => {
  for (const [k, v] of Object.entries(rec)) m.set(k, (m.get(k) ?? 0) + v);
};

export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export class Timeline {
  readonly buckets = new Map<number, Bucket>();
  private readonly t0: number;

  constructor(t0: number) {
    this.t0 = t0;
  }

  second(at = Date.now()): number {
    return Math.floor((at - this.t0) / 1000);
  }

  private bucket(second: number): Bucket {
    let b = this.buckets.get(second);
    if (!b) {
      b = { second, latency: new Map(), errors: new Map(), timeouts: new Map(), clientErrors: new Map(), actions: new Map(), skipped: new Map(), wsFrames: 0, wsPosted: 0, wsOpened: 0, wsClosedUnexpectedly: 0, deliveryMs: [], samples: [] };
      this.buckets.set(second, b);
    }
    return b;
  }

  add(report: AgentReport): void {
    // A report covers the second before it was sent.
    const b = this.bucket(Math.max(0, this.second(report.at) - 1));
    for (const [ep, values] of Object.entries(report.latency)) {
      const into = b.latency.get(ep);
      if (into) for (const v of values) into.push(v);
      else b.latency.set(ep, values);
    }
    add(b.errors, report.errors);
    add(b.timeouts, report.timeouts);
    add(b.clientErrors, report.client_errors);
    add(b.actions, report.actions);
    add(b.skipped, report.skipped);
    b.wsFrames += report.ws.frames;
    b.wsPosted += report.ws.posted;
    b.wsOpened += report.ws.opened;
    b.wsClosedUnexpectedly += report.ws.closed_unexpectedly;
    for (const v of report.ws.posted_delivery_ms) b.deliveryMs.push(v);
    for (const s of report.samples) if (b.samples.length < 10) b.samples.push(s);
  }

  *range(from: number, to: number): Generator<Bucket> {
    for (let s = Math.max(0, from); s < to; s++) {
      const b = this.buckets.get(s);
      if (b) yield b;
    }
  }

  /** Request statistics over seconds [from, to): latency over every endpoint but connection set-up. */
  window(from: number, to: number): WindowStats {
    const values: number[] = [];
    let errors = 0;
    let timeouts = 0;
    let clientErrors = 0;
    let requests = 0;
    for (const b of this.range(from, to)) {
      for (const [ep, v] of b.latency) {
        requests += v.length;
        if (!connectEndpoints.has(ep)) for (const x of v) values.push(x);
      }
      for (const n of b.errors.values()) errors += n;
      for (const n of b.timeouts.values()) {
        timeouts += n;
        requests += n;
      }
      for (const n of b.clientErrors.values()) clientErrors += n;
    }
    values.sort((a, b) => a - b);
    const seconds = Math.max(1, to - Math.max(0, from));
    return {
      from,
      to,
      requests,
      rps: r2(requests / seconds),
      mean: r2(values.reduce((s, v) => s + v, 0) / (values.length || 1)),
      p50: r2(quantile(values, 0.5)),
      p95: r2(quantile(values, 0.95)),
      p99: r2(quantile(values, 0.99)),
      errors,
      timeouts,
      error_rate: requests ? errors / requests : 0,
      timeout_rate: requests ? timeouts / requests : 0,
      client_errors: clientErrors,
    };
  }

  endpoints(from: number, to: number): EndpointStats[] {
    const names = new Set<string>();
    const latency = new Map<string, number[]>();
    const errors = new Map<string, number>();
    const timeouts = new Map<string, number>();
    const clientErrors = new Map<string, number>();
    for (const b of this.range(from, to)) {
      for (const [ep, v] of b.latency) {
        names.add(ep);
        const into = latency.get(ep) ?? latency.set(ep, []).get(ep)!;
        for (const x of v) into.push(x);
      }
      for (const [m, into] of [[b.errors, errors], [b.timeouts, timeouts], [b.clientErrors, clientErrors]] as const) {
        for (const [ep, n] of m) {
          names.add(ep);
          into.set(ep, (into.get(ep) ?? 0) + n);
        }
      }
    }
    const seconds = Math.max(1, to - Math.max(0, from));
    return [...names]
      .map((endpoint) => {
        const v = (latency.get(endpoint) ?? []).sort((a, b) => a - b);
        return {
          endpoint,
          count: v.length,
          per_second: r2(v.length / seconds),
          mean: r2(v.reduce((s, x) => s + x, 0) / (v.length || 1)),
          p50: r2(quantile(v, 0.5)),
          p95: r2(quantile(v, 0.95)),
          p99: r2(quantile(v, 0.99)),
          max: r2(v.at(-1) ?? 0),
          errors: errors.get(endpoint) ?? 0,
          timeouts: timeouts.get(endpoint) ?? 0,
          client_errors: clientErrors.get(endpoint) ?? 0,
        };
      })
      .sort((a, b) => b.count - a.count);
  }

  totals(from: number, to: number, pick: (b: Bucket) => Map<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of this.range(from, to)) for (const [k, n] of pick(b)) out[k] = (out[k] ?? 0) + n;
    return out;
  }
}
