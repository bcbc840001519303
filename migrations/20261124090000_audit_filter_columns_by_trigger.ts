import type { Knex } from 'knex';

// audit_log's filter columns (create_at, event_name, status, user_id, object_type) were five stored
// generated columns, each casting the record text to json and walking it again: about 46 µs of
// PostgreSQL CPU per sealed record, two thirds of all sealing work. A BEFORE INSERT trigger derives
// the five from one parse of the record, so they still cannot disagree with the hashed text (the
// app role cannot write them; UPDATE is refused by the append-only triggers).
//
// jsonb parses once into a tree (five look-ups are then cheap) but refuses some texts json accepts:
// the \u0000 escape and unpaired surrogate escapes. Canonical JSON writes a \u escape only for control
// characters, so a record without any "\u" takes the jsonb path and the rare other takes json.
// json cannot turn "\u0000" into text either (the generated columns had the same limit, and one NUL
// in a record stopped the sealer): recordAudit now writes NUL as U+FFFD, and the trigger leaves the
// columns empty rather than fail on a text it cannot read.
const columns = ['create_at', 'event_name', 'status', 'user_id', 'object_type'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION audit_log_filter_columns() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      tree jsonb;
      plain json;
    BEGIN
      IF strpos(NEW.record, '\\u') = 0 THEN
        tree := NEW.record::jsonb;
        NEW.create_at := (tree ->> 'timestamp')::bigint;
        NEW.event_name := tree ->> 'event_name';
        NEW.status := tree ->> 'status';
        NEW.user_id := tree #>> '{actor,user_id}';
        NEW.object_type := tree #>> '{event,object_type}';
      ELSE
        BEGIN
          plain := NEW.record::json;
          NEW.create_at := (plain ->> 'timestamp')::bigint;
          NEW.event_name := plain ->> 'event_name';
          NEW.status := plain ->> 'status';
          NEW.user_id := plain #>> '{actor,user_id}';
          NEW.object_type := plain #>> '{event,object_type}';
        EXCEPTION WHEN OTHERS THEN
          -- A text PostgreSQL cannot read as JSON text (an escaped NUL written around recordAudit,
          -- which never writes one) is still chained, hashed and verified; only these filters miss it.
          -- Failing here would stop the sealer on it for ever.
          NULL;
        END;
      END IF;
      RETURN NEW;
    END $$`);
  for (const column of columns) await knex.raw(`ALTER TABLE audit_log ALTER COLUMN ${column} DROP EXPRESSION`);
  await knex.raw('CREATE TRIGGER audit_log_filter_columns BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_filter_columns()');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER audit_log_filter_columns ON audit_log');
  await knex.raw('DROP FUNCTION audit_log_filter_columns()');
  const expressions: Record<string, string> = {
    create_at: "(((record::json) ->> 'timestamp')::bigint)",
    event_name: "((record::json) ->> 'event_name')",
    status: "((record::json) ->> 'status')",
    user_id: "((record::json) #>> '{actor,user_id}')",
    object_type: "((record::json) #>> '{event,object_type}')",
  };
  // A column cannot become generated again in place: replace each one, then restore its index.
  for (const column of columns) {
    const type = column === 'create_at' ? 'bigint' : 'text';
    await knex.raw(`ALTER TABLE audit_log DROP COLUMN ${column}`);
    await knex.raw(`ALTER TABLE audit_log ADD COLUMN ${column} ${type} GENERATED ALWAYS AS ${expressions[column]} STORED`);
  }
  await knex.raw('CREATE INDEX audit_log_create_at ON audit_log (create_at)');
  await knex.raw('CREATE INDEX audit_log_user ON audit_log (user_id, seq)');
  await knex.raw('CREATE INDEX audit_log_event ON audit_log (event_name, seq)');
  await knex.raw('CREATE INDEX audit_log_object ON audit_log (object_type, seq)');
}
