/**
 * Query options (`db.raw(sql, bindings).options(prepared('name'))`) that send a fixed SQL text as a
 * named prepared statement: each pooled connection has PostgreSQL parse and plan it once, then only
 * binds and executes it. For the statements nearly every request sends. The SQL text under a name must
 * never change at run time (pg refuses a second text for the same name on a connection).
 */
export function prepared(name: string): { name: string } {
  return { name: `custodian_${name}` };
}
