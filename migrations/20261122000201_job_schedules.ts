import type { Knex } from 'knex';

// When each recurring job type runs next. Persisted so that a restart does not reset the clock, and
// claimed row by row (FOR UPDATE SKIP LOCKED) so that several schedulers never create the same run.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_schedules', (t) => {
    t.string('type', 64).primary();
    t.string('spec', 128).notNullable();
    t.bigInteger('next_run_at').notNullable();
    t.bigInteger('last_run_at').notNullable().defaultTo(0);
    t.string('last_job_id', 26).notNullable().defaultTo('');
    t.bigInteger('update_at').notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('job_schedules');
}
