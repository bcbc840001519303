import type { Knex } from 'knex';

// Full-text search over messages: a stored tsvector kept by PostgreSQL itself (no trigger, no drift)
// and a GIN index. English stemming, like Mattermost's default text search configuration.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, message)) STORED");
  await knex.raw('CREATE INDEX posts_search_vector ON posts USING gin (search_vector)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS posts_search_vector');
  await knex.raw('ALTER TABLE posts DROP COLUMN IF EXISTS search_vector');
}
