import type { Knex } from 'knex';

// posts.search_vector stops being stored: the stored tsvector was about a third of each post's heap
// tuple, yet only the GIN index is ever searched. The column stays, as a virtual generated column
// (PostgreSQL 18) with the same expression, so every query that says `p.search_vector @@ …` keeps
// working and the planner matches it to the expression index below. Reads that list their columns
// never compute it. Existing rows give the space back at the next table rewrite (VACUUM FULL posts).
const expression = "to_tsvector('english'::regconfig, message)";

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS posts_search_vector');
  await knex.raw('ALTER TABLE posts DROP COLUMN search_vector');
  await knex.raw(`ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (${expression}) VIRTUAL`);
  await knex.raw(`CREATE INDEX posts_search_vector ON posts USING gin ((${expression}))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS posts_search_vector');
  await knex.raw('ALTER TABLE posts DROP COLUMN search_vector');
  await knex.raw(`ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (${expression}) STORED`);
  await knex.raw('CREATE INDEX posts_search_vector ON posts USING gin (search_vector)');
}
