import type { Knex } from 'knex';

// eDiscovery searches prior versions of posts (edited and deleted content) with the same full-text
// search as posts: a stored tsvector kept by PostgreSQL and a GIN index, as posts.search_vector.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE post_versions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, message)) STORED");
  await knex.raw('CREATE INDEX post_versions_search_vector ON post_versions USING gin (search_vector)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS post_versions_search_vector');
  await knex.raw('ALTER TABLE post_versions DROP COLUMN IF EXISTS search_vector');
}
