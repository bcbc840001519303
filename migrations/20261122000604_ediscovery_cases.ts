import type { Knex } from 'knex';

// eDiscovery cases (compliance/ediscovery/): a case groups the saved searches of one matter and may
// name the legal hold that preserves its data.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ediscovery_cases (
      id varchar(26) PRIMARY KEY,
      name varchar(128) NOT NULL,
      description text NOT NULL DEFAULT '',
      hold_id varchar(26) REFERENCES legal_holds (id),
      create_at bigint NOT NULL,
      update_at bigint NOT NULL,
      delete_at bigint NOT NULL DEFAULT 0,
      created_by varchar(26) NOT NULL
    )`);
  await knex.raw(`
    CREATE TABLE ediscovery_saved_searches (
      id varchar(26) PRIMARY KEY,
      case_id varchar(26) NOT NULL REFERENCES ediscovery_cases (id),
      name varchar(128) NOT NULL,
      terms text NOT NULL,
      options jsonb NOT NULL DEFAULT '{}',
      create_at bigint NOT NULL,
      update_at bigint NOT NULL,
      delete_at bigint NOT NULL DEFAULT 0,
      created_by varchar(26) NOT NULL,
      last_run_at bigint NOT NULL DEFAULT 0,
      last_total integer NOT NULL DEFAULT 0
    )`);
  await knex.raw('CREATE INDEX ediscovery_saved_searches_case ON ediscovery_saved_searches (case_id, create_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS ediscovery_saved_searches');
  await knex.raw('DROP TABLE IF EXISTS ediscovery_cases');
}
