import type { ExportFile } from '../records.ts';
import type { ZipStreamEntry } from '../zip.ts';
import { actianceDocumentSql, type ActianceRowKind } from './actiance-sql.ts';
import type { ExportFormat, FormatContext } from './format.ts';

/** The XML document's name inside the batch zip, as Mattermost names it. */
export const ACTIANCE_FILE = 'actiance_export.xml';

const KIND_BYTE: Record<ActianceRowKind, number> = { h: 0x68, p: 0x70, v: 0x76, m: 0x6d, x: 0x78, a: 0x61 };

/** An attachment row's JSON (actiance-sql.ts) as the runner's attachment queue takes it. */
function queueAttachment(ctx: FormatContext, json: Buffer): void {
  const a = JSON.parse(json.toString('utf8')) as Record<string, string | number>;
  const file: ExportFile = {
    id: String(a.id), name: String(a.name), path: String(a.path), size: Number(a.size), mimeType: String(a.mime_type),
    sha256: String(a.sha256), createAt: Number(a.create_at), deleteAt: Number(a.delete_at),
  };
  const name = ctx.attach(String(a.post_id), file);
  if (name !== a.zip_path) throw new Error(`attachment ${name} was named ${String(a.zip_path)} in the document`);
}

/**
 * Actiance XML: one Conversation per channel with activity, in the element order archivers expect:
 * RoomID, StartTimeUTC, ParticipantEntered*, Message*, FileTransferStarted*, FileTransferEnded*,
 * ParticipantLeft*, EndTimeUTC. PostgreSQL renders the elements (actiance-sql.ts) and streams them
 * by COPY; this process counts them, queues attachments and copies the bytes into the zip entry,
 * waiting only when the compressor is behind. Every channel of every batch lists everyone present,
 * so this is most of the bytes of a busy export, and none of it becomes a JavaScript string.
 */
async function writeActianceXml(ctx: FormatContext, out: ZipStreamEntry): Promise<void> {
  const { counts } = ctx;
  out.write('<?xml version="1.0" encoding="UTF-8"?>\n<FileDump xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n');
  const [sql, bindings] = actianceDocumentSql(ctx.source);
  for await (const rows of ctx.source.copy(sql, bindings)) {
    for (const [kind, body] of rows) {
      switch (kind[0]) {
        case KIND_BYTE.a:
          queueAttachment(ctx, body);
          continue;
        case KIND_BYTE.h:
          counts.channels++;
          break;
        case KIND_BYTE.p:
          counts.posts++;
          counts.messages++;
          break;
        case KIND_BYTE.v:
          counts.versions++;
          counts.messages++;
          break;
        case KIND_BYTE.m:
          counts.messages++;
          break;
      }
      out.writeBytes(body);
    }
    if (out.backlogged) await out.drain();
  }
  out.write('</FileDump>\n');
  const events = await ctx.source.memberEventCounts();
  counts.joins += events.joins;
  counts.leaves += events.leaves;
}

export const actianceFormat: ExportFormat = {
  name: 'actiance',
  async write(ctx) {
    const out = ctx.zip.entry(ACTIANCE_FILE);
    try {
      await writeActianceXml(ctx, out);
    } catch (err) {
      out.abort();
      throw err;
    }
    await out.close();
  },
};
