// The purge's own database connection, whose PostgreSQL backend runs at the lowest CPU priority when
// it is a process of this host (the embedded cluster, or a local one). Pausing between batches only
// helps live requests between batches; a request that arrives while a batch runs competes with it for
// the CPU, and on a small machine that is what moves its p99. At nice 19, and under SCHED_IDLE where
// chrt exists (server/db/batch-scheduling.ts), the kernel gives the batch only the CPU time live
// traffic leaves idle, so batches can run nearly back to back. A nice value
// cannot be lowered again without privileges, which is why this backend is never one of the request
// pool's: its pool is closed when the run ends.
import fs from 'node:fs';
import os from 'node:os';
import knexFactory, { type Knex } from 'knex';
import { moveToIdleScheduling } from '../../server/db/batch-scheduling.ts';
import type { Logger } from '../../server/lib/logger.ts';

/** Lowest scheduling priority (highest nice value) on Linux. */
const LOWEST_PRIORITY = 19;

interface RawClient {
  query(sql: string): Promise<{ rows: { pid: number }[] }>;
}

/** True when `pid` is a PostgreSQL process of this host (a remote server's pid means nothing here). */
function isLocalPostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}

/** Whether the connection settings point at this host (a socket directory, or a loopback address). */
function connectsLocally(connection: unknown): boolean {
  const c = connection as { host?: string; connectionString?: string } | undefined;
  let host = c?.host;
  if (c?.connectionString) {
    try {
      host = new URL(c.connectionString).hostname || new URL(c.connectionString).searchParams.get('host') || 'localhost';
    } catch {
      return false;
    }
  }
  return !host || host.startsWith('/') || ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);
}

export interface PurgeConnection {
  db: Knex;
  /** True when the backend runs at the lowest priority (so batches need not pause to spare live traffic). */
  lowPriority(): boolean;
  close(): Promise<void>;
}

/**
 * Opens a one-connection pool like `db`'s, its backend reniced when it runs on this host. The
 * compliance export reads its batches through one too (named `custodian-export`).
 */
export function openPurgeConnection(db: Knex, logger: Logger, applicationName = 'custodian-retention'): PurgeConnection {
  const base = db.client.config as Knex.Config;
  const connection = base.connection as Knex.PgConnectionConfig;
  const local = process.platform === 'linux' && connectsLocally(base.connection);
  let reniced = false;
  const purgeDb = knexFactory({
    ...base,
    // knex keeps the password as a hidden property of its connection settings: copied by name.
    connection: { ...connection, ...(connection.password === undefined ? {} : { password: connection.password }), application_name: applicationName },
    pool: {
      min: 0,
      max: 1,
      afterCreate(conn: RawClient, done: (err: Error | null, conn: RawClient) => void) {
        if (!local) return done(null, conn);
        conn.query('SELECT pg_backend_pid() AS pid').then(
          ({ rows }) => {
            const pid = Number(rows[0].pid);
            reniced = false;
            try {
              if (isLocalPostgres(pid)) {
                os.setPriority(pid, LOWEST_PRIORITY);
                // Nice 19 still lets the backend finish its slice before a woken live backend runs.
                moveToIdleScheduling(pid);
                reniced = true;
              }
            } catch (err) {
              // Not permitted (another user's process without privileges): the pause rule alone throttles.
              logger.warn({ err, application_name: applicationName }, 'could not lower the priority of a background database backend');
            }
            done(null, conn);
          },
          (err: Error) => done(err, conn),
        );
      },
    },
  });
  return { db: purgeDb, lowPriority: () => reniced, close: () => purgeDb.destroy() };
}
