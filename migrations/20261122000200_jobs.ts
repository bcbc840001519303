import type { Knex } from 'knex';

// Background jobs (Mattermost's Jobs table plus a lease): a job is claimed by one worker at a time,
// which renews `lease_expires_at` while it runs; a worker that dies stops renewing, and another one
// takes the job over once the lease has expired. `state` is the handler's private resume point.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('jobs', (t) => {
    t.string('id', 26).primary();
    t.string('type', 64).notNullable();
    t.string('status', 32).notNullable();
    t.bigInteger('create_at').notNullable().defaultTo(0);
    t.bigInteger('start_at').notNullable().defaultTo(0);
    t.bigInteger('last_activity_at').notNullable().defaultTo(0);
    t.integer('progress').notNullable().defaultTo(0);
    t.jsonb('data').notNullable().defaultTo('{}');
    t.jsonb('state').notNullable().defaultTo('{}');
    t.string('created_by', 26).notNullable().defaultTo('');
    t.string('node_id', 64).notNullable().defaultTo('');
    t.string('lease_token', 26);
    t.bigInteger('lease_expires_at').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.index(['type', 'create_at']);
    t.index(['status', 'create_at']);
  });
  await knex.raw(
    "ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('pending', 'in_progress', 'success', 'warning', 'error', 'cancel_requested', 'canceled'))",
  );
  await knex.raw('ALTER TABLE jobs ADD CONSTRAINT jobs_progress_check CHECK (progress BETWEEN 0 AND 100)');
  // At most one running job per type, across every server process: enforced by the database itself.
  await knex.raw("CREATE UNIQUE INDEX jobs_one_running_per_type ON jobs (type) WHERE status IN ('in_progress', 'cancel_requested')");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('jobs');
}
