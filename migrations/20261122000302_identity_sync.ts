import type { Knex } from 'knex';

// Directory sync runs (scheduled and on demand) and the lease that lets one node at a time run them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('identity_sync_runs', (t) => {
    t.string('id', 26).primary();
    t.string('source', 16).notNullable();
    t.string('trigger', 16).notNullable();
    t.string('node_id', 64).notNullable().defaultTo('');
    t.string('status', 16).notNullable();
    t.bigInteger('start_at').notNullable();
    t.bigInteger('finish_at').notNullable().defaultTo(0);
    t.jsonb('counts').notNullable().defaultTo('{}');
    t.text('error').notNullable().defaultTo('');
    t.index(['source', 'start_at']);
  });
  await knex.schema.createTable('identity_sync_leases', (t) => {
    t.string('source', 16).primary();
    t.string('holder', 64).notNullable().defaultTo('');
    t.bigInteger('lease_until').notNullable().defaultTo(0);
    t.bigInteger('last_success_at').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('identity_sync_leases');
  await knex.schema.dropTableIfExists('identity_sync_runs');
}
