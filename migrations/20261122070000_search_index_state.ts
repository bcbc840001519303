import type { Knex } from 'knex';

// How far an external search index (OpenSearch) has caught up with PostgreSQL: the last (update_at,
// id) of posts it holds, and when its backfill finished (0: never; searches stay on PostgreSQL until
// then). One row per index name, shared by every node.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('search_index_state', (t) => {
    t.string('index_name', 255).primary();
    t.bigInteger('update_at').notNullable().defaultTo(-1);
    t.string('post_id', 26).notNullable().defaultTo('');
    t.bigInteger('backfilled_at').notNullable().defaultTo(0);
    t.bigInteger('changed_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('search_index_state');
}
