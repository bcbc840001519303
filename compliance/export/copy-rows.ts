import type { Knex } from 'knex';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/** The 11-byte signature, flags and header-extension length that open a binary COPY stream. */
const HEADER_BYTES = 19;

/** Rows of one network chunk: field i of row r spans `data[spans[2 * (r * width + i)] .. spans[2 * (r * width + i) + 1])`. */
export interface CopyChunk {
  data: Buffer;
  spans: Int32Array;
  rows: number;
}

/**
 * Streams `COPY (query) TO STDOUT (FORMAT binary)` on the transaction's own connection (so in its
 * snapshot), once `turn` has settled, as the raw bytes of each field: text columns arrive as UTF-8 that the export writes as
 * it is, with no string decoding and no object per row or field (a million rows would otherwise
 * churn the young generation, which V8 then grows). NULL fields are empty. Each chunk, and the spans
 * into it, stay valid only until the next one is asked for. COPY takes no parameters, so the
 * bindings are inlined by knex's quoting.
 */
export async function* copyRows(trx: Knex.Transaction, sql: string, bindings: readonly Knex.RawBinding[], width: number, turn = Promise.resolve()): AsyncGenerator<CopyChunk> {
  const text = trx.raw(sql, bindings as Knex.RawBinding[]).toQuery();
  const client = (await trx.client.acquireConnection()) as pg.Client;
  const stream = client.query(copyTo(`COPY (${text}) TO STDOUT (FORMAT binary)`));
  // PostgreSQL sorts and renders the whole result before its first row, so the query goes out now;
  // its rows are read at our turn, meanwhile held back by the socket (in the kernel, not in this heap).
  await turn;
  let rest: Buffer = Buffer.alloc(0);
  let headerLeft = HEADER_BYTES;
  let extensionRead = false;
  let spans = new Int32Array(4096);
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
    let rows = 0;
    let at = 0;
    rows: while (at + 2 <= data.length) {
      const count = data.readInt16BE(at);
      if (count < 0) {
        at = data.length; // the trailer
        break;
      }
      if (count !== width) throw new Error(`COPY row has ${count} fields, expected ${width}`);
      if (spans.length < (rows + 1) * width * 2) {
        const grown = new Int32Array(spans.length * 2);
        grown.set(spans);
        spans = grown;
      }
      let p = at + 2;
      for (let i = 0; i < count; i++) {
        if (p + 4 > data.length) break rows;
        const length = data.readInt32BE(p);
        p += 4;
        const end = p + Math.max(0, length);
        if (end > data.length) break rows; // the row continues in the next chunk
        spans[2 * (rows * width + i)] = p;
        spans[2 * (rows * width + i) + 1] = end;
        p = end;
      }
      rows++;
      at = p;
    }
    // A partial row is copied: the chunk it came in is not kept.
    rest = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
    if (rows) yield { data, spans, rows };
  }
  if (rest.length) throw new Error('COPY stream ended inside a row');
}
