import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { PgTarget } from './targets.ts';

// Times are bigint epoch milliseconds; they fit a JS number exactly, so read int8 as number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type { Knex };

/** A knex pool for one connection target. */
export function createKnex(target: PgTarget | string, poolMax: number, applicationName = 'custodian'): Knex {
  const connection = typeof target === 'string' ? { connectionString: target, application_name: applicationName } : { ...target, application_name: applicationName };
  return knexFactory({
    client: 'pg',
    connection,
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: 10_000,
  });
}
