import type { Knex } from 'knex';

// The configuration each node last started with (secrets as keyed fingerprints): a start with
// different settings is recorded in the audit log as a configuration change.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('config_snapshots', (t) => {
    t.string('node_id', 64).primary();
    t.text('snapshot').notNullable();
    t.bigInteger('update_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('config_snapshots');
}
