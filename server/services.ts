import type { Knex } from 'knex';
import type { Config } from './config/schema.ts';
import type { Logger } from './lib/logger.ts';

/** The long-lived objects request handlers and jobs use; built once per server process. */
export interface Services {
  config: Config;
  logger: Logger;
  /** Pool connected as the least-privileged application role. */
  db: Knex;
  close(): Promise<void>;
}

export function buildServices(base: { config: Config; logger: Logger; db: Knex }): Services {
  return {
    ...base,
    async close() {},
  };
}
