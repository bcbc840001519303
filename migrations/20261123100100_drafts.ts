import type { Knex } from 'knex';

// Unsent messages, one per user, channel and thread (root_id '' for the channel itself), synced
// between a user's devices.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('drafts', (t) => {
    t.string('user_id', 26).notNullable().references('users.id');
    t.string('channel_id', 26).notNullable().references('channels.id');
    t.string('root_id', 26).notNullable().defaultTo('');
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.bigInteger('update_at').notNullable().defaultTo(0);
    t.text('message').notNullable().defaultTo('');
    t.jsonb('props').notNullable().defaultTo('{}');
    t.jsonb('file_ids').notNullable().defaultTo('[]');
    t.jsonb('priority');
    t.primary(['user_id', 'channel_id', 'root_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('drafts');
}
