import type { Knex } from 'knex';

// Two of the posts table's B-trees shrink to what their readers need (docs/decisions/0012):
// - (user_id, create_at) becomes (user_id): the key repeats for every post of a user, so PostgreSQL
//   deduplicates it into posting lists; `from:` and custodian filters check the date on the rows the
//   search already fetches.
// - the retention purge's (create_at, id) becomes (create_at): ties on one millisecond are few, and the
//   planner sorts them by id on the way (incremental sort) while the purge reads those rows anyway.
// On a large table each CREATE INDEX holds off writes to posts while it builds (minutes per 10 M posts).
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX posts_user_id ON posts (user_id)');
  await knex.raw('DROP INDEX IF EXISTS posts_user_create_at');
  await knex.raw('CREATE INDEX posts_create_at ON posts (create_at)');
  await knex.raw('DROP INDEX IF EXISTS posts_create_at_id');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX posts_create_at_id ON posts (create_at, id)');
  await knex.raw('DROP INDEX IF EXISTS posts_create_at');
  await knex.raw('CREATE INDEX posts_user_create_at ON posts (user_id, create_at)');
  await knex.raw('DROP INDEX IF EXISTS posts_user_id');
}
