import type { Knex } from 'knex';

// Append-only audit tables: besides the grants (server/db/app-role.ts revokes UPDATE, DELETE and
// TRUNCATE from the app role), triggers refuse those statements for every role. A superuser can still
// disable triggers; verification (`custodian audit verify`) is what catches that.
const tables = ['audit_log', 'audit_checkpoints', 'audit_keys'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit table % is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
    END $$`);
  for (const table of tables) {
    await knex.raw(`CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of tables) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_update_delete ON ${table}`);
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_truncate ON ${table}`);
  }
  await knex.raw('DROP FUNCTION IF EXISTS audit_refuse_change()');
}
