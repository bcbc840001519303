import type { Knex } from 'knex';

// A slash command's response_url: lets its integration answer later (up to 5 times within 30 minutes).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('command_webhooks', (t) => {
    t.string('id', 26).primary();
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.string('command_id', 26).notNullable();
    t.string('user_id', 26).notNullable();
    t.string('channel_id', 26).notNullable();
    t.string('root_id', 26).notNullable().defaultTo('');
    t.integer('use_count').notNullable().defaultTo(0);
    t.index(['create_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('command_webhooks');
}
