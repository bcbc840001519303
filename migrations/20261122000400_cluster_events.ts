import type { Knex } from 'knex';

// Events relayed between the nodes of a cluster. NOTIFY carries only an id range (its payload is
// limited to 8,000 bytes); receivers read the events from here. Rows live for minutes.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('cluster_events', (t) => {
    t.bigIncrements('id');
    t.string('origin', 128).notNullable();
    t.bigInteger('created_at').notNullable();
    t.jsonb('payload').notNullable();
    t.index(['created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('cluster_events');
}
