import type { Knex } from 'knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Counts a hub reports for the WebSocket gauges (see `Hub.stats()`). */
export interface HubCounts {
  open: number;
  dormant: number;
  unauthenticated: number;
  users: number;
  queued: number;
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  numPendingCreates(): number;
  max: number;
}

// Seconds. Chat requests live between a millisecond (cached reads) and a few seconds (uploads, exports).
const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
const lagBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
const jobBuckets = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/**
 * Prometheus metrics of one server: a registry of its own (tests boot several servers in one process,
 * so nothing goes to prom-client's global registry). Labels only ever carry route patterns, methods,
 * status codes, event names and job types — never paths, ids or tokens.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** HTTP request durations by method, matched route pattern and status code. */
  readonly httpDuration: Histogram<'method' | 'route' | 'code'>;
  /** Time from an event reaching the hub (publish, or arrival from another node) to its last socket write. */
  readonly wsEventLag: Histogram<'event'>;
  /** WebSocket frames written for events, by event name. */
  readonly wsEventsDelivered: Counter<'event'>;
  /**
   * Background job run durations. The job runner calls
   * `services.metrics.jobDuration.observe({ type, status }, seconds)` when a run ends (status: success,
   * error, canceled, ...), or `const end = jobDuration.startTimer({ type }); ... end({ status })`.
   */
  readonly jobDuration: Histogram<'type' | 'status'>;

  constructor(deps: { db?: Knex; hub?: () => HubCounts; defaultMetrics?: boolean }) {
    const registers = [this.registry];
    if (deps.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.httpDuration = new Histogram({ name: 'custodian_http_request_duration_seconds', help: 'HTTP request duration by route pattern.', labelNames: ['method', 'route', 'code'], buckets: requestBuckets, registers });
    this.wsEventLag = new Histogram({ name: 'custodian_websocket_event_lag_seconds', help: 'Time from an event reaching the WebSocket hub to its last write to a socket.', labelNames: ['event'], buckets: lagBuckets, registers });
    this.wsEventsDelivered = new Counter({ name: 'custodian_websocket_event_frames_total', help: 'Event frames written to WebSockets.', labelNames: ['event'], registers });
    this.jobDuration = new Histogram({ name: 'custodian_job_duration_seconds', help: 'Background job run duration by type and outcome.', labelNames: ['type', 'status'], buckets: jobBuckets, registers });

    const hub = deps.hub;
    if (hub) {
      new Gauge({
        name: 'custodian_websocket_connections',
        help: 'WebSocket connections by state (open, dormant: resumable after a disconnect, unauthenticated).',
        labelNames: ['state'],
        registers,
        collect() {
          const s = hub();
          this.set({ state: 'open' }, s.open);
          this.set({ state: 'dormant' }, s.dormant);
          this.set({ state: 'unauthenticated' }, s.unauthenticated);
        },
      });
      new Gauge({ name: 'custodian_websocket_users', help: 'Users with at least one WebSocket connection.', registers, collect() { this.set(hub().users); } });
      new Gauge({ name: 'custodian_websocket_event_queue', help: 'Events waiting for delivery to WebSockets.', registers, collect() { this.set(hub().queued); } });
    }

    const db = deps.db;
    if (db) {
      const poolOf = () => (db.client as { pool?: TarnPool }).pool;
      new Gauge({
        name: 'custodian_db_pool_connections',
        help: 'Database pool connections by state (used, free, pending_acquire: requests waiting, pending_create).',
        labelNames: ['state'],
        registers,
        collect() {
          const pool = poolOf();
          if (!pool) return;
          this.set({ state: 'used' }, pool.numUsed());
          this.set({ state: 'free' }, pool.numFree());
          this.set({ state: 'pending_acquire' }, pool.numPendingAcquires());
          this.set({ state: 'pending_create' }, pool.numPendingCreates());
        },
      });
      new Gauge({ name: 'custodian_db_pool_max', help: 'Largest size of the database pool.', registers, collect() { const pool = poolOf(); if (pool) this.set(pool.max); } });
    }
  }

  /** Records one delivered event (called by the WebSocket router). */
  observeDelivery(event: string, lagMs: number, frames: number): void {
    this.wsEventLag.observe({ event }, lagMs / 1000);
    if (frames > 0) this.wsEventsDelivered.inc({ event }, frames);
  }
}
