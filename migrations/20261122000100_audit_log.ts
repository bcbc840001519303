import type { Knex } from 'knex';

// The tamper-evident audit log (audit/, docs/decisions/0004-audit-log.md).
// - audit_outbox: records written in the action's transaction, waiting to be chained.
// - audit_log: the chain. `record` is the canonical JSON (RFC 8785) of the record including its seq;
//   hash = SHA-256(previous hash ‖ record). The filter columns are generated from `record`, so they can
//   never disagree with what the hash covers (through ::json, which parses about twice as fast as ::jsonb
//   here and halves the sealer's insert cost).
// - audit_head: the chain head (one row), locked by the sealer so sequence numbers have no gaps.
// - audit_checkpoints: signed checkpoints (canonical JSON body + Ed25519 signature).
// - audit_keys: public keys of the checkpoint signing keys, oldest first.
// - audit_stream_cursors: how far each stream (file, syslog) has delivered.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE audit_outbox (
      id bigserial PRIMARY KEY,
      record text NOT NULL
    )`);
  await knex.raw(`
    CREATE TABLE audit_log (
      seq bigint PRIMARY KEY,
      record text NOT NULL,
      hash bytea NOT NULL,
      sealed_at bigint NOT NULL,
      create_at bigint GENERATED ALWAYS AS (((record::json) ->> 'timestamp')::bigint) STORED,
      event_name text GENERATED ALWAYS AS ((record::json) ->> 'event_name') STORED,
      status text GENERATED ALWAYS AS ((record::json) ->> 'status') STORED,
      user_id text GENERATED ALWAYS AS ((record::json) #>> '{actor,user_id}') STORED,
      object_type text GENERATED ALWAYS AS ((record::json) #>> '{event,object_type}') STORED
    )`);
  await knex.raw('CREATE INDEX audit_log_create_at ON audit_log (create_at)');
  await knex.raw('CREATE INDEX audit_log_user ON audit_log (user_id, seq)');
  await knex.raw('CREATE INDEX audit_log_event ON audit_log (event_name, seq)');
  await knex.raw('CREATE INDEX audit_log_object ON audit_log (object_type, seq)');
  await knex.raw(`
    CREATE TABLE audit_head (
      id smallint PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      hash bytea NOT NULL,
      updated_at bigint NOT NULL
    )`);
  await knex.raw("INSERT INTO audit_head (id, seq, hash, updated_at) VALUES (1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000', 0)");
  await knex.raw(`
    CREATE TABLE audit_checkpoints (
      number bigint PRIMARY KEY,
      body text NOT NULL,
      signature text NOT NULL,
      seq_start bigint GENERATED ALWAYS AS (((body::json) ->> 'seq_start')::bigint) STORED,
      seq_end bigint GENERATED ALWAYS AS (((body::json) ->> 'seq_end')::bigint) STORED,
      created_at bigint GENERATED ALWAYS AS (((body::json) ->> 'created_at')::bigint) STORED
    )`);
  await knex.raw('CREATE INDEX audit_checkpoints_seq_end ON audit_checkpoints (seq_end)');
  await knex.raw(`
    CREATE TABLE audit_keys (
      n serial PRIMARY KEY,
      key_id text NOT NULL UNIQUE,
      public_key text NOT NULL,
      created_at bigint NOT NULL
    )`);
  await knex.raw(`
    CREATE TABLE audit_stream_cursors (
      sink text PRIMARY KEY,
      last_seq bigint NOT NULL,
      updated_at bigint NOT NULL
    )`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['audit_stream_cursors', 'audit_keys', 'audit_checkpoints', 'audit_head', 'audit_log', 'audit_outbox']) await knex.schema.dropTableIfExists(table);
}
