import type { Knex } from 'knex';

// Mattermost's legacy compliance reports (ad-hoc searches exported as a zip); each runs as a job.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('compliance_reports', (t) => {
    t.string('id', 26).primary();
    t.bigInteger('create_at').notNullable();
    t.string('user_id', 26).notNullable();
    t.string('status', 32).notNullable();
    t.integer('count').notNullable().defaultTo(0);
    t.string('description', 512).notNullable().defaultTo('');
    t.string('type', 16).notNullable().defaultTo('adhoc');
    t.bigInteger('start_at').notNullable();
    t.bigInteger('end_at').notNullable();
    t.string('keywords', 1024).notNullable().defaultTo('');
    t.string('emails', 1024).notNullable().defaultTo('');
    t.string('job_id', 26).notNullable();
    t.string('file_key', 512).notNullable().defaultTo('');
    t.bigInteger('size').notNullable().defaultTo(0);
    t.string('sha256', 64).notNullable().defaultTo('');
    t.index(['create_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('compliance_reports');
}
