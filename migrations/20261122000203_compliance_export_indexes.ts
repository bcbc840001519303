import type { Knex } from 'knex';

// Range scans of incremental compliance exports: edit versions by the time they were replaced, and
// channel joins and leaves by time.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX post_versions_replaced_at ON post_versions (replaced_at, post_id)');
  await knex.raw('CREATE INDEX channel_member_history_join_time ON channel_member_history (join_time)');
  await knex.raw('CREATE INDEX channel_member_history_leave_time ON channel_member_history (leave_time) WHERE leave_time IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS channel_member_history_leave_time');
  await knex.raw('DROP INDEX IF EXISTS channel_member_history_join_time');
  await knex.raw('DROP INDEX IF EXISTS post_versions_replaced_at');
}
