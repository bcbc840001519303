import crypto from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import type { PgTarget } from '../db/targets.ts';
import type { Logger } from '../lib/logger.ts';
import type { EventBus, EventRelay, ServerEvent } from './events.ts';

const CHANNEL = 'custodian_events';
const RETENTION_MS = 5 * 60_000;
const MAX_BATCH = 500;
/** The relay listeners' application name: counting them in pg_stat_activity tells whether any other node is up. */
const LISTENER_NAME = 'custodian-relay';
const PEER_CHECK_MS = 10_000;

/**
 * Relays events between the server processes sharing one PostgreSQL, so a client connected to node A
 * hears what happens on node B. Events are written to `cluster_events` in small batches (one INSERT per
 * flush) and announced with NOTIFY carrying only the id range — payloads travel by reference. Each
 * node LISTENs on a dedicated connection, reads the announced range, and hands the events to its bus.
 *
 * A node alone (most installations) writes nothing: it counts the other nodes' listeners every 10 s,
 * and a starting node says hello on the channel as soon as it listens, before it serves anyone, so
 * the others relay to it from then on.
 */
export class PgEventRelay implements EventRelay {
  /** This process's identity in the relay: unique even for several nodes on one host. */
  readonly origin: string;
  private readonly db: Knex;
  private readonly target: PgTarget | string;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  private listener?: pg.Client;
  private pending: ServerEvent[] = [];
  private flushing: Promise<void> | undefined;
  private cleanupTimer?: NodeJS.Timeout;
  private peerTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Whether another node listens. Assumed until counted: an event is never dropped on a guess. */
  private peers = true;
  /** Moves on every hello, so a count that started before a node said hello does not undo it. */
  private hellos = 0;

  constructor(deps: { db: Knex; target: PgTarget | string; bus: EventBus; logger: Logger; nodeId: string }) {
    this.db = deps.db;
    this.target = deps.target;
    this.bus = deps.bus;
    this.logger = deps.logger.child({ module: 'cluster-relay' });
    this.origin = `${deps.nodeId}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  }

  async start(): Promise<void> {
    await this.listen();
    await this.countPeers();
    this.peerTimer = setInterval(() => {
      this.countPeers().catch((err: unknown) => this.logger.warn({ err }, 'could not count the other nodes'));
    }, PEER_CHECK_MS).unref();
    this.cleanupTimer = setInterval(() => {
      this.db('cluster_events').where('created_at', '<', Date.now() - RETENTION_MS).delete().catch((err: unknown) => this.logger.warn({ err }, 'could not prune cluster events'));
    }, 60_000).unref();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(typeof this.target === 'string' ? { connectionString: this.target, application_name: LISTENER_NAME } : { ...this.target, application_name: LISTENER_NAME });
    client.on('notification', (msg) => this.onNotification(msg.payload ?? ''));
    client.on('error', (err) => {
      this.logger.error({ err }, 'relay connection lost; reconnecting');
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => this.listen().catch((e: unknown) => this.logger.error({ err: e }, 'relay reconnect failed')), 1000).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `hello|${this.origin}`]);
  }

  /** Counts the relay listeners of this database other than this node's own. */
  private async countPeers(): Promise<void> {
    const hellos = this.hellos;
    const { rows } = await this.db.raw('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = ?', [LISTENER_NAME]);
    if (hellos !== this.hellos) return;
    // Without our own listener (reconnecting) the count cannot tell; keep relaying.
    this.peers = !this.listener || Number(rows[0].n) > 1;
  }

  private onNotification(payload: string): void {
    const [origin, first, last] = payload.split('|');
    if (origin === 'hello') {
      if (first !== this.origin) {
        this.peers = true;
        this.hellos += 1;
      }
      return;
    }
    if (origin === this.origin || !first || !last) return;
    this.db('cluster_events')
      .whereBetween('id', [Number(first), Number(last)])
      .andWhere({ origin })
      .orderBy('id')
      .select('payload')
      .then((rows: { payload: ServerEvent }[]) => {
        for (const row of rows) this.bus.receiveRemote(row.payload);
      })
      .catch((err: unknown) => this.logger.error({ err, payload }, 'could not read relayed events'));
  }

  /** Queues an event for the other nodes; flushed in the next tick together with its neighbours. */
  send(event: ServerEvent): void {
    if (this.stopped || !this.peers) return;
    this.pending.push(event);
    if (!this.flushing) this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_BATCH);
        const now = Date.now();
        await this.db.raw(
          `WITH ins AS (INSERT INTO cluster_events (origin, created_at, payload) SELECT ?, ?, p FROM unnest(?::jsonb[]) AS p RETURNING id)
           SELECT pg_notify(?, ? || '|' || min(id) || '|' || max(id)) FROM ins`,
          [this.origin, now, batch.map((e) => JSON.stringify(e)), CHANNEL, this.origin],
        );
      }
    } catch (err) {
      // Other nodes miss these events; their clients recover by refetching on reconnect.
      this.logger.error({ err }, 'could not relay events to the other nodes');
      this.pending = [];
    } finally {
      this.flushing = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    if (this.peerTimer) clearInterval(this.peerTimer);
    await this.flushing;
    await this.listener?.end().catch(() => undefined);
  }
}
