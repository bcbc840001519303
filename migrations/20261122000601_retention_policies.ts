import type { Knex } from 'knex';

// Data retention policies (Mattermost's model, retention-jobs/retention/).
// - retention_global_policy: the one global policy (row id 1), messages and files separately, in hours.
// - retention_policies: custom policies; post_duration in days, -1 keeps forever.
// - retention_policy_teams / _channels: where a custom policy applies. A team or channel is in at most
//   one policy (primary key), and a channel policy wins over its team's policy, which wins over the
//   global one.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE retention_global_policy (
      id smallint PRIMARY KEY CHECK (id = 1),
      message_deletion_enabled boolean NOT NULL DEFAULT false,
      message_retention_hours integer NOT NULL DEFAULT 8760 CHECK (message_retention_hours >= 1),
      file_deletion_enabled boolean NOT NULL DEFAULT false,
      file_retention_hours integer NOT NULL DEFAULT 8760 CHECK (file_retention_hours >= 1),
      keep_pinned boolean NOT NULL DEFAULT false,
      update_at bigint NOT NULL DEFAULT 0,
      updated_by varchar(26) NOT NULL DEFAULT ''
    )`);
  await knex.raw('INSERT INTO retention_global_policy (id) VALUES (1)');
  await knex.raw(`
    CREATE TABLE retention_policies (
      id varchar(26) PRIMARY KEY,
      display_name varchar(64) NOT NULL,
      post_duration integer NOT NULL CHECK (post_duration = -1 OR post_duration >= 1),
      keep_pinned boolean NOT NULL DEFAULT false,
      create_at bigint NOT NULL,
      update_at bigint NOT NULL,
      created_by varchar(26) NOT NULL DEFAULT ''
    )`);
  await knex.raw(`
    CREATE TABLE retention_policy_teams (
      team_id varchar(26) PRIMARY KEY,
      policy_id varchar(26) NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX retention_policy_teams_policy ON retention_policy_teams (policy_id)');
  await knex.raw(`
    CREATE TABLE retention_policy_channels (
      channel_id varchar(26) PRIMARY KEY,
      policy_id varchar(26) NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE
    )`);
  await knex.raw('CREATE INDEX retention_policy_channels_policy ON retention_policy_channels (policy_id)');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['retention_policy_channels', 'retention_policy_teams', 'retention_policies', 'retention_global_policy']) {
    await knex.raw(`DROP TABLE IF EXISTS ${table}`);
  }
}
