import type { Knex } from 'knex';

// What the retention purge needs: keyset order on (create_at, id) for posts and files, and a durable
// list of file contents to remove from the file store once the rows that named them are gone (the
// store is not transactional: a crash between COMMIT and the unlink leaves the key here, and the next
// run removes it).
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX posts_create_at_id ON posts (create_at, id)');
  await knex.raw('CREATE INDEX file_infos_create_at_id ON file_infos (create_at, id)');
  await knex.raw(`
    CREATE TABLE retention_file_removals (
      id bigserial PRIMARY KEY,
      storage_key varchar(512) NOT NULL,
      file_id varchar(26) NOT NULL,
      create_at bigint NOT NULL
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS retention_file_removals');
  await knex.raw('DROP INDEX IF EXISTS file_infos_create_at_id');
  await knex.raw('DROP INDEX IF EXISTS posts_create_at_id');
}
