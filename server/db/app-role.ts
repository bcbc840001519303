import type { Knex } from 'knex';

/** The least-privileged role the application serves requests as. */
export const APP_ROLE = 'custodian_app';

/**
 * Tables the application may only append to: UPDATE, DELETE and TRUNCATE are withheld from the app
 * role (and refused by triggers installed by their migrations).
 */
export const appendOnlyTables: readonly string[] = ['audit_log', 'audit_checkpoints', 'audit_keys'];

/**
 * Creates or updates the app role and grants it data access to the schema, but not DDL, not the
 * migration bookkeeping, and only INSERT/SELECT on append-only tables. Run after every migration.
 */
export async function grantAppRole(knex: Knex, password: string): Promise<void> {
  const database = (await knex.raw('SELECT current_database() AS db')).rows[0].db as string;
  const quotedPassword = (await knex.raw('SELECT quote_literal(?) AS q', [password])).rows[0].q as string;
  await knex.transaction(async (trx) => {
    // Serialise concurrent starts of several nodes on one database.
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', ['custodian.grant_app_role']);
    const exists = await trx.raw('SELECT 1 FROM pg_roles WHERE rolname = ?', [APP_ROLE]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await trx.raw(`${verb} ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quotedPassword}`);
    await trx.raw(`GRANT CONNECT ON DATABASE ?? TO ${APP_ROLE}`, [database]);
    await trx.raw(`GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`);
    await trx.raw(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${APP_ROLE}`);
    await trx.raw(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${APP_ROLE}`);
    await trx.raw(`REVOKE ALL ON schema_migrations, schema_migrations_lock FROM ${APP_ROLE}`);
    for (const table of appendOnlyTables) {
      await trx.raw(`REVOKE UPDATE, DELETE, TRUNCATE ON ?? FROM ${APP_ROLE}`, [table]);
    }
  });
}
