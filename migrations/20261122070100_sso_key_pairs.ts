import type { Knex } from 'knex';

// Key material the server generates for single sign-on (the SAML SP signing and decryption pair), kept
// in the database so that every node of a cluster presents the same certificate. One row per name,
// written once: the primary key lets concurrent first starts agree on a single pair.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sso_key_pairs', (t) => {
    t.string('name', 64).primary();
    t.text('private_key').notNullable();
    t.text('certificate').notNullable();
    t.bigInteger('create_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sso_key_pairs');
}
