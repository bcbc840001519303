import type { Knex } from 'knex';

// Sign-in state shared by every node: SAML AuthnRequest ids we issued (InResponseTo), assertion ids
// already consumed (replay), and OIDC authorization requests in flight (state, nonce, PKCE verifier).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('saml_requests', (t) => {
    t.string('id', 256).primary();
    t.text('value').notNullable();
    t.bigInteger('create_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });
  await knex.schema.createTable('saml_assertions', (t) => {
    t.string('id', 256).primary();
    t.string('issuer', 1024).notNullable().defaultTo('');
    t.bigInteger('received_at').notNullable();
    // Kept until the assertion could no longer be accepted anyway (NotOnOrAfter plus clock skew).
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });
  await knex.schema.createTable('oidc_states', (t) => {
    t.string('state', 128).primary();
    t.string('nonce', 128).notNullable();
    t.string('code_verifier', 128).notNullable();
    // SHA-256 of a random value held in the browser's cookie: a callback from another browser fails.
    t.string('browser_hash', 64).notNullable();
    t.string('redirect_to', 512).notNullable().defaultTo('');
    t.bigInteger('create_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('oidc_states');
  await knex.schema.dropTableIfExists('saml_assertions');
  await knex.schema.dropTableIfExists('saml_requests');
}
