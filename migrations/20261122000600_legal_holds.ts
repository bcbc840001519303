import type { Knex } from 'knex';

// Legal holds (compliance/holds/, docs/decisions/0010-legal-hold-coverage.md).
// - legal_holds: one row per hold, pointing at its current version; released_at > 0 once released.
// - legal_hold_versions: every state a hold has had. A change is a new row, never an update: the
//   history of who widened, narrowed or released a hold, and when, is kept whole.
// - legal_hold_scope: the custodians (users, directory groups) and channels of each version. Group ids
//   are plain strings: a hold may name a group the directory has not synced yet.
// Version and scope rows refuse UPDATE and DELETE (trigger), for every role.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE legal_holds (
      id varchar(26) PRIMARY KEY,
      name varchar(64) NOT NULL,
      current_version integer NOT NULL,
      create_at bigint NOT NULL,
      created_by varchar(26) NOT NULL,
      update_at bigint NOT NULL,
      released_at bigint NOT NULL DEFAULT 0,
      released_by varchar(26) NOT NULL DEFAULT ''
    )`);
  await knex.raw('CREATE UNIQUE INDEX legal_holds_name_key ON legal_holds (lower(name))');
  await knex.raw('CREATE INDEX legal_holds_active ON legal_holds (id) WHERE released_at = 0');
  await knex.raw(`
    CREATE TABLE legal_hold_versions (
      hold_id varchar(26) NOT NULL REFERENCES legal_holds (id),
      version integer NOT NULL,
      display_name varchar(128) NOT NULL,
      description text NOT NULL DEFAULT '',
      starts_at bigint NOT NULL DEFAULT 0,
      ends_at bigint NOT NULL DEFAULT 0,
      query text NOT NULL DEFAULT '',
      query_tsquery tsquery,
      released boolean NOT NULL DEFAULT false,
      comment text NOT NULL DEFAULT '',
      create_at bigint NOT NULL,
      created_by varchar(26) NOT NULL,
      PRIMARY KEY (hold_id, version),
      CHECK (version >= 1),
      CHECK (starts_at >= 0 AND ends_at >= 0 AND (ends_at = 0 OR ends_at >= starts_at))
    )`);
  await knex.raw(`
    CREATE TABLE legal_hold_scope (
      hold_id varchar(26) NOT NULL,
      version integer NOT NULL,
      kind varchar(8) NOT NULL CHECK (kind IN ('user', 'group', 'channel')),
      target_id varchar(64) NOT NULL,
      PRIMARY KEY (hold_id, version, kind, target_id),
      FOREIGN KEY (hold_id, version) REFERENCES legal_hold_versions (hold_id, version)
    )`);
  await knex.raw('CREATE INDEX legal_hold_scope_target ON legal_hold_scope (kind, target_id)');
  // Coverage looks up a custodian's membership of one channel at one time (compliance/holds/coverage.ts).
  await knex.raw('CREATE INDEX channel_member_history_user_channel ON channel_member_history (user_id, channel_id, join_time)');
  await knex.raw(`
    CREATE FUNCTION legal_hold_history_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'legal hold history is append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END $$`);
  for (const table of ['legal_hold_versions', 'legal_hold_scope']) {
    await knex.raw(`CREATE TRIGGER ${table}_immutable BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION legal_hold_history_immutable()`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS channel_member_history_user_channel');
  await knex.raw('DROP TABLE IF EXISTS legal_hold_scope');
  await knex.raw('DROP TABLE IF EXISTS legal_hold_versions');
  await knex.raw('DROP TABLE IF EXISTS legal_holds');
  await knex.raw('DROP FUNCTION IF EXISTS legal_hold_history_immutable()');
}
