import type { Knex } from 'knex';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** The 11-byte signature, flags and header-extension length that open a binary COPY stream. */
const HEADER_BYTES = 19;

/**
 * Streams `COPY (query) TO STDOUT (FORMAT binary)` on the transaction's own connection (so in its
 * snapshot), as rows of raw field bytes: text columns arrive as UTF-8 that the export writes as it is,
 * with no string decoding, no row objects and no re-encoding. NULL fields are empty. Each yield is the
 * rows of one network chunk; the fields point into that chunk and stay valid only until the next one.
 * COPY takes no parameters, so the bindings are inlined by knex's quoting.
 */
export async function* copyRows(trx: Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[]): AsyncGenerator<Buffer[][]> {
  const text = trx.raw(sql, bindings as Knex.RawBinding[]).toQuery();
  const client = (await trx.client.acquireConnection()) as pg.Client;
  const stream = client.query(copyTo(`COPY (${text}) TO STDOUT (FORMAT binary)`));
  let rest: Buffer = Buffer.alloc(0);
  let headerLeft = HEADER_BYTES;
  let extensionRead = false;
  for await (const piece of stream) {
    let data = rest.length ? Buffer.concat([rest, piece as Buffer]) : (piece as Buffer);
    if (headerLeft > 0) {
      if (data.length < headerLeft) {
        rest = data;
        continue;
      }
      if (!extensionRead) {
        // The header extension's length is the header's last 4 bytes (0 today).
        headerLeft += data.readUInt32BE(HEADER_BYTES - 4);
        extensionRead = true;
        if (data.length < headerLeft) {
          rest = data;
          continue;
        }
      }
      data = data.subarray(headerLeft);
      headerLeft = 0;
    }
    const rows: Buffer[][] = [];
    let at = 0;
    while (at + 2 <= data.length) {
      const count = data.readInt16BE(at);
      if (count < 0) {
        at = data.length; // the trailer
        break;
      }
      let p = at + 2;
      const fields: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        if (p + 4 > data.length) break;
        const length = data.readInt32BE(p);
        p += 4;
        if (length < 0) {
          fields.push(Buffer.alloc(0));
          continue;
        }
        if (p + length > data.length) break;
        fields.push(data.subarray(p, p + length));
        p += length;
      }
      if (fields.length < count) break; // the row continues in the next chunk
      rows.push(fields);
      at = p;
    }
    // A partial row is copied: the chunk it came in is not kept.
    rest = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
    if (rows.length) yield rows;
  }
  if (rest.length) throw new Error('COPY stream ended inside a row');
}
