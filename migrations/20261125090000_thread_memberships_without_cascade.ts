import type { Knex } from 'knex';

// Thread memberships no longer reference posts by a foreign key. Only the retention purge removes posts
// (the API deletes softly), and the ON DELETE CASCADE ran a trigger query for every purged post, with or
// without memberships: 30 % of a 10,000-post purge batch. The purge now deletes the memberships of the
// roots it removes in the same statement, by one array lookup (retention-jobs/retention/purge.ts), as it
// does versions and reactions; the threads queries join posts, so a membership never shows without its post.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE thread_memberships DROP CONSTRAINT IF EXISTS thread_memberships_post_id_foreign');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DELETE FROM thread_memberships m WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = m.post_id)');
  await knex.raw('ALTER TABLE thread_memberships ADD CONSTRAINT thread_memberships_post_id_foreign FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE');
}
