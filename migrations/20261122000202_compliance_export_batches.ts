import type { Knex } from 'knex';

// One row per committed compliance export batch: its cursor range, where its zip is and the zip's
// hashes. The row and the job's cursor are written in one transaction, so a crash never leaves a
// batch recorded without its cursor moving, or the cursor moved past an unrecorded batch.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('compliance_export_batches', (t) => {
    t.bigIncrements('id');
    t.string('job_id', 26).notNullable().references('jobs.id');
    t.integer('seq').notNullable();
    t.string('format', 16).notNullable();
    t.boolean('incremental').notNullable();
    t.bigInteger('from_update_at').notNullable();
    t.string('from_post_id', 26);
    t.bigInteger('to_update_at').notNullable();
    t.string('to_post_id', 26);
    t.string('file_key', 512).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable();
    t.bigInteger('crc32').notNullable();
    t.string('manifest_sha256', 64).notNullable();
    t.jsonb('counts').notNullable().defaultTo('{}');
    t.integer('warnings').notNullable().defaultTo(0);
    t.string('delivery', 16).notNullable().defaultTo('store');
    t.bigInteger('create_at').notNullable();
    t.unique(['job_id', 'seq']);
    t.index(['incremental', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('compliance_export_batches');
}
