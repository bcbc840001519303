import type { ZipStreamEntry } from '../zip.ts';
import { actianceDocumentSql } from './actiance-sql.ts';
import type { ExportFormat, FormatContext } from './format.ts';
import { copyDocument } from './sql-document.ts';

/** The XML document's name inside the batch zip, as Mattermost names it. */
export const ACTIANCE_FILE = 'actiance_export.xml';

/**
 * Actiance XML: one Conversation per channel with activity, in the element order archivers expect:
 * RoomID, StartTimeUTC, ParticipantEntered*, Message*, FileTransferStarted*, FileTransferEnded*,
 * ParticipantLeft*, EndTimeUTC. PostgreSQL renders the elements (actiance-sql.ts) and streams them
 * by COPY; this process counts them, queues attachments and copies the bytes into the zip entry,
 * waiting only when the compressor is behind. Every channel of every batch lists everyone present,
 * so this is most of the bytes of a busy export, and none of it becomes a JavaScript string.
 */
async function writeActianceXml(ctx: FormatContext, out: ZipStreamEntry): Promise<void> {
  out.write('<?xml version="1.0" encoding="UTF-8"?>\n<FileDump xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n');
  await copyDocument(ctx, out, actianceDocumentSql(ctx.source));
  out.write('</FileDump>\n');
  const events = await ctx.source.memberEventCounts();
  ctx.counts.joins += events.joins;
  ctx.counts.leaves += events.leaves;
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
