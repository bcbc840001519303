import type { Knex } from 'knex';

/**
 * Logical database dump and load for `custodian backup` / `custodian restore`
 * (docs/decisions/0005-backup-format.md). Every table of the public schema is read in one REPEATABLE
 * READ snapshot. A row is written as one line: a JSON array holding each column's PostgreSQL text
 * form (what COPY would write), so the round trip is exact for every type, including the byte-exact
 * text the audit chain hashes. Generated columns are left out and recomputed on load.
 */

/** knex's bookkeeping: recreated by running the same migrations before the load. */
const SKIPPED_TABLES = new Set(['schema_migrations', 'schema_migrations_lock']);

export interface TableDump {
  name: string;
  /** Column names in the order the values appear on each line. */
  columns: string[];
  /** `format_type()` of each column, used to cast the text back. */
  types: string[];
  rows: number;
}

export interface SequenceState {
  name: string;
  lastValue: number | null;
  isCalled: boolean;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/**
 * Tables of the public schema, parents before children of their foreign keys, so a load in this order
 * satisfies the constraints even where triggers cannot be disabled wholesale.
 */
export async function tablesInDependencyOrder(db: Knex | Knex.Transaction): Promise<string[]> {
  const tables = (
    await db.raw(`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`)
  ).rows.map((r: { name: string }) => r.name).filter((name: string) => !SKIPPED_TABLES.has(name)) as string[];
  const edges = (
    await db.raw(`
      SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint k
      JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = child.relnamespace
      WHERE k.contype = 'f' AND n.nspname = 'public' AND child.oid <> parent.oid`)
  ).rows as { child: string; parent: string }[];
  const parents = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const { child, parent } of edges) parents.get(child)?.add(parent);
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = tables.filter((t) => !placed.has(t) && [...parents.get(t)!].every((p) => placed.has(p) || !parents.has(p)));
    // A cycle of foreign keys: place the rest alphabetically (the superuser load disables the checks).
    const next = ready.length ? ready : tables.filter((t) => !placed.has(t));
    for (const t of ready.length ? next : next.slice(0, 1)) {
      ordered.push(t);
      placed.add(t);
    }
  }
  return ordered;
}

async function columnsOf(db: Knex | Knex.Transaction, table: string): Promise<{ name: string; type: string }[]> {
  return (
    await db.raw(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
       ORDER BY a.attnum`,
      [table],
    )
  ).rows;
}

export interface DumpSink {
  /** Called once per table, before its rows. */
  table(dump: Omit<TableDump, 'rows'>): Promise<void>;
  /** One line per row (no newline). */
  row(line: string): Promise<void>;
  /** Called after the last row of the table. */
  end(rows: number): Promise<void>;
}

export interface DatabaseDump {
  migrations: string[];
  tables: TableDump[];
  sequences: SequenceState[];
  serverVersion: string;
}

/** Streams every table into `sink` from one consistent snapshot. */
export async function dumpDatabase(db: Knex, sink: DumpSink, batchRows = 2000): Promise<DatabaseDump> {
  return db.transaction(
    async (trx) => {
      const serverVersion = (await trx.raw('SHOW server_version')).rows[0].server_version as string;
      const migrations = (await trx.raw('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r: { name: string }) => r.name) as string[];
      const tables: TableDump[] = [];
      for (const name of await tablesInDependencyOrder(trx)) {
        const columns = await columnsOf(trx, name);
        // array_to_json over a text[]: no limit on the number of columns, NULL stays null.
        const select = `array_to_json(ARRAY[${columns.map((c) => `${quote(c.name)}::text`).join(', ')}]::text[])::text`;
        await sink.table({ name, columns: columns.map((c) => c.name), types: columns.map((c) => c.type) });
        await trx.raw(`DECLARE backup_rows NO SCROLL CURSOR FOR SELECT ${select} AS line FROM ONLY public.${quote(name)}`);
        let rows = 0;
        while (true) {
          const batch = (await trx.raw(`FETCH ${batchRows} FROM backup_rows`)).rows as { line: string }[];
          for (const { line } of batch) await sink.row(line);
          rows += batch.length;
          if (batch.length < batchRows) break;
        }
        await trx.raw('CLOSE backup_rows');
        await sink.end(rows);
        tables.push({ name, columns: columns.map((c) => c.name), types: columns.map((c) => c.type), rows });
      }
      const sequences = (
        await trx.raw(`SELECT sequencename AS name, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`)
      ).rows.map((r: { name: string; last_value: number | null }) => ({ name: r.name, lastValue: r.last_value, isCalled: r.last_value !== null }));
      return { migrations, tables, sequences, serverVersion };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/**
 * Loads dumped tables into a database that has the same migrations applied and no data of its own
 * (what the migrations seeded is replaced). Runs inside `trx`; call `begin()` first, then `table()`
 * per table in dump order, then `finish()`.
 */
export class DatabaseLoader {
  private readonly trx: Knex.Transaction;
  private superuser = false;
  private tables: string[] = [];

  constructor(trx: Knex.Transaction) {
    this.trx = trx;
  }

  async begin(tables: string[]): Promise<void> {
    this.tables = tables;
    this.superuser = (await this.trx.raw('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0]?.rolsuper === true;
    if (this.superuser) {
      // Triggers (the audit log's append-only guards among them) and foreign-key checks stay off for
      // this transaction only: the rows are restored as they were, not re-validated one by one.
      await this.trx.raw('SET LOCAL session_replication_role = replica');
    } else {
      for (const t of tables) await this.trx.raw(`ALTER TABLE public.${quote(t)} DISABLE TRIGGER USER`);
    }
    if (tables.length) await this.trx.raw(`TRUNCATE ${tables.map((t) => `public.${quote(t)}`).join(', ')}`);
  }

  /** Inserts the rows of one table, in batches. */
  async table(dump: Omit<TableDump, 'rows'>, lines: AsyncIterable<string>, batchBytes = 4 << 20): Promise<number> {
    const present = new Map((await columnsOf(this.trx, dump.name)).map((c) => [c.name, c.type]));
    if (present.size === 0) throw new Error(`table ${dump.name} of the backup does not exist in the database`);
    const missing = dump.columns.filter((c) => !present.has(c));
    if (missing.length) throw new Error(`table ${dump.name} has no column(s) ${missing.join(', ')}: the schema does not match the backup`);
    const columnList = dump.columns.map(quote).join(', ');
    const values = dump.types.map((type, i) => `(e->>${i})::${type}`).join(', ');
    const sql = `INSERT INTO public.${quote(dump.name)} (${columnList}) OVERRIDING SYSTEM VALUE SELECT ${values} FROM json_array_elements(?::json) AS e`;
    let batch: string[] = [];
    let size = 0;
    let rows = 0;
    const flush = async () => {
      if (!batch.length) return;
      await this.trx.raw(sql, [`[${batch.join(',')}]`]);
      rows += batch.length;
      batch = [];
      size = 0;
    };
    for await (const line of lines) {
      batch.push(line);
      size += line.length;
      if (size >= batchBytes) await flush();
    }
    await flush();
    return rows;
  }

  async finish(sequences: SequenceState[]): Promise<void> {
    for (const s of sequences) {
      if (s.lastValue === null) continue;
      await this.trx.raw('SELECT setval(?::regclass, ?, ?)', [`public.${quote(s.name)}`, s.lastValue, s.isCalled]);
    }
    if (!this.superuser) for (const t of this.tables) await this.trx.raw(`ALTER TABLE public.${quote(t)} ENABLE TRIGGER USER`);
  }
}

/** True when the database holds no table of the public schema yet. */
export async function databaseIsEmpty(db: Knex): Promise<boolean> {
  const found = await db.raw(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1`);
  return found.rows.length === 0;
}
