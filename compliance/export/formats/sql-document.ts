import type { Knex } from 'knex';
import type { ExportFile } from '../records.ts';
import type { ZipStreamEntry } from '../zip.ts';
import type { BatchCounts, FormatContext } from './format.ts';

/**
 * What a row of a document PostgreSQL renders is (its first column): `h` the start of a channel's
 * part, `p` the record of a post row, `v` of a replaced version, `m` another message record, `j` a
 * join, `l` a leave, `x` anything else, `a` an attachment to copy (JSON, not document text).
 */
export type DocumentRowKind = 'h' | 'p' | 'v' | 'm' | 'j' | 'l' | 'x' | 'a';

const code = (kind: DocumentRowKind) => kind.charCodeAt(0);
const ATTACHMENT = code('a');
const NOTHING: (keyof BatchCounts)[] = [];
/** What each kind of row adds to the batch's counts. */
const COUNTED = new Map<number, (keyof BatchCounts)[]>([
  [code('h'), ['channels']], [code('p'), ['posts', 'messages']], [code('v'), ['versions', 'messages']], [code('m'), ['messages']],
  [code('j'), ['joins']], [code('l'), ['leaves']],
]);

/** An attachment row's JSON (records-sql.ts) into the runner's attachment queue. */
function queueAttachment(ctx: FormatContext, json: string): void {
  const a = JSON.parse(json) as Record<string, string | number>;
  const file: ExportFile = {
    id: String(a.id), name: String(a.name), path: String(a.path), size: Number(a.size), mimeType: String(a.mime_type),
    sha256: String(a.sha256), createAt: Number(a.create_at), deleteAt: Number(a.delete_at),
  };
  const name = ctx.attach(String(a.post_id), file);
  if (name !== a.zip_path) throw new Error(`attachment ${name} was named ${String(a.zip_path)} in the document`);
}

/**
 * Copies a document PostgreSQL renders (rows of kind and text, in document order) into a zip entry:
 * the text goes in as the bytes COPY delivered (never a JavaScript string), the kinds are counted
 * for the manifest, attachments are queued. Waits only when the compressor is behind.
 */
export async function copyDocument(ctx: FormatContext, out: ZipStreamEntry, [sql, bindings]: [string, Knex.RawBinding[]]): Promise<void> {
  const { counts } = ctx;
  for await (const { data, spans, rows } of ctx.source.copy(sql, bindings, 2)) {
    for (let r = 0; r < rows; r++) {
      const kind = data[spans[4 * r]];
      const start = spans[4 * r + 2];
      const end = spans[4 * r + 3];
      if (kind === ATTACHMENT) {
        queueAttachment(ctx, data.toString('utf8', start, end));
        continue;
      }
      for (const key of COUNTED.get(kind) ?? NOTHING) counts[key]++;
      out.writeRange(data, start, end);
    }
    if (out.backlogged) await out.drain();
  }
}
