import type { ExportChannel } from '../records.ts';
import type { ZipStreamEntry } from '../zip.ts';
import { csvDocumentSql } from './csv-sql.ts';
import type { ExportFormat, FormatContext } from './format.ts';
import { copyDocument } from './sql-document.ts';
import { csvRow } from './text.ts';

/** Mattermost's message export CSV header, column for column. */
export const CSV_HEADER = [
  'Post Creation Time', 'Post Update Time', 'Post Update Type', 'Team Id', 'Team Name', 'Team Display Name', 'Channel Id', 'Channel Name',
  'Channel Display Name', 'Channel Type', 'User Id', 'User Email', 'Username', 'Post Id', 'Edited By Post Id', 'Replied to Post Id',
  'Post Message', 'Post Type', 'User Type', 'Previews Post Id',
] as const;

type ChannelInfo = Pick<ExportChannel, 'id' | 'name' | 'displayName' | 'type' | 'teamId' | 'teamName' | 'teamDisplayName'>;

/**
 * Mattermost's CSV (posts.csv): messages, attachments, and who was already in, joined or left each
 * channel, sorted by time. PostgreSQL renders the rows (csv-sql.ts) and streams them by COPY; every
 * channel of every batch lists who was already in it, so most rows repeat the same channel and user
 * cells, and none of them becomes a JavaScript string here.
 */
async function writeCsvRows(ctx: FormatContext, out: ZipStreamEntry): Promise<void> {
  out.write(csvRow([...CSV_HEADER]));
  await copyDocument(ctx, out, csvDocumentSql(ctx.source));
}

export const csvFormat: ExportFormat = {
  name: 'csv',
  async write(ctx) {
    // The channels the batch touches, for metadata.json (one small map per batch, without members).
    const channels = new Map<string, ChannelInfo>();
    for await (const c of ctx.source.channels({ participants: false })) {
      ctx.counts.channels++;
      channels.set(c.id, { id: c.id, name: c.name, displayName: c.displayName, type: c.type, teamId: c.teamId, teamName: c.teamName, teamDisplayName: c.teamDisplayName });
    }
    const out = ctx.zip.entry('posts.csv');
    try {
      await writeCsvRows(ctx, out);
    } catch (err) {
      out.abort();
      throw err;
    }
    await out.close();
    const metadata = { channels: Object.fromEntries([...channels.values()].map((c) => [c.id, c])), counts: ctx.counts };
    await ctx.zip.add('metadata.json', JSON.stringify(metadata, null, 2) + '\n');
  },
};
