import type { Knex } from 'knex';

// Who follows which thread, and how far they have read it (collapsed reply threads). The thread's own
// counters (reply_count, last_reply_at) stay on its root post. A purged root takes its memberships with
// it (retention deletes posts outright).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('thread_memberships', (t) => {
    t.string('user_id', 26).notNullable().references('users.id');
    t.string('post_id', 26).notNullable().references('posts.id').onDelete('CASCADE');
    t.boolean('following').notNullable().defaultTo(true);
    t.bigInteger('last_viewed').notNullable().defaultTo(0);
    t.bigInteger('last_updated').notNullable().defaultTo(0);
    t.integer('unread_mentions').notNullable().defaultTo(0);
    t.primary(['user_id', 'post_id']);
    t.index(['post_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('thread_memberships');
}
