import type { Knex } from 'knex';

// Every channel switch asks for the channel's stats, whose pinned-post count otherwise reads every post
// of the channel. Pinned posts are few, so this partial index is small and most inserts never touch it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX posts_channel_pinned ON posts (channel_id) WHERE is_pinned AND delete_at = 0');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS posts_channel_pinned');
}
