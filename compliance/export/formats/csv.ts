import { channelTypeName, type ExportChannel, type ExportMessage, type ExportUser } from '../records.ts';
import { countMessage, Peekable, type ExportFormat, type FormatContext } from './format.ts';
import type { ZipStreamEntry } from '../zip.ts';
import { csvCell, csvRow } from './text.ts';

/** Mattermost's message export CSV header, column for column. */
export const CSV_HEADER = [
  'Post Creation Time', 'Post Update Time', 'Post Update Type', 'Team Id', 'Team Name', 'Team Display Name', 'Channel Id', 'Channel Name',
  'Channel Display Name', 'Channel Type', 'User Id', 'User Email', 'Username', 'Post Id', 'Edited By Post Id', 'Replied to Post Id',
  'Post Message', 'Post Type', 'User Type', 'Previews Post Id',
] as const;

type ChannelInfo = Pick<ExportChannel, 'id' | 'name' | 'displayName' | 'type' | 'teamId' | 'teamName' | 'teamDisplayName'>;

interface RowCells {
  create: number;
  update: number | '';
  updateType: string;
  postId: string;
  editedBy: string;
  root: string;
  message: string;
  type: string;
  previews: string;
}

/**
 * Rows are mostly the same channel and user columns around a few cells of their own (every channel of
 * every batch lists its members), so those columns are encoded once per channel and per user.
 */
class CsvRows {
  private readonly channelCells = new Map<string, string>();
  private readonly userCells = new Map<string, { cells: string; type: string; alreadyIn: string }>();

  private channel(c: ChannelInfo): string {
    let cells = this.channelCells.get(c.id);
    if (cells === undefined) {
      cells = [c.teamId, c.teamName, c.teamDisplayName, c.id, c.name, c.displayName, channelTypeName(c.type)].map(csvCell).join(',');
      this.channelCells.set(c.id, cells);
    }
    return cells;
  }

  private user(u: ExportUser): { cells: string; type: string; alreadyIn: string } {
    const key = `${u.id}\u0000${u.email}\u0000${u.username}`;
    let cached = this.userCells.get(key);
    if (!cached) {
      cached = { cells: [u.id, u.email, u.username].map(csvCell).join(','), type: u.isBot ? 'bot' : 'user', alreadyIn: csvCell(`User ${u.username} (${u.email}) was already in the channel`) };
      this.userCells.set(key, cached);
    }
    return cached;
  }

  row(channel: ChannelInfo, user: ExportUser, cells: RowCells): string {
    const u = this.user(user);
    return `${cells.create},${cells.update},${csvCell(cells.updateType)},${this.channel(channel)},${u.cells},${csvCell(cells.postId)},${csvCell(cells.editedBy)},${csvCell(cells.root)},${csvCell(cells.message)},${csvCell(cells.type)},${u.type},${csvCell(cells.previews)}\r\n`;
  }

  /** "User … was already in the channel": someone present when the batch's share of the channel starts. */
  alreadyIn(channel: ChannelInfo, user: ExportUser, time: number): string {
    const u = this.user(user);
    return `${time},,,${this.channel(channel)},${u.cells},,,,${u.alreadyIn},previously-joined,${u.type},\r\n`;
  }
}

function messageRows(ctx: FormatContext, rows: CsvRows, channel: ChannelInfo, m: ExportMessage): string {
  const base = { create: m.createAt, update: m.updateType ? m.updateAt : ('' as const), updateType: m.updateType, postId: m.id, editedBy: m.editedNewMsgId, root: m.rootId, previews: m.previewsPost };
  let out = rows.row(channel, m.user, { ...base, message: m.message, type: m.postType || 'message' });
  if (m.source !== 'post' && m.source !== 'file') return out;
  for (const file of m.files) {
    const deleted = file.deleteAt > 0;
    const path = deleted ? `files/${m.postId}/${file.id}` : ctx.attach(m.postId, file);
    if (m.source === 'post' && deleted) continue; // its FileDeleted record follows as its own row
    out += rows.row(channel, m.user, { ...base, message: `${file.name} (${path})`, type: deleted ? 'deleted attachment' : 'attachment' });
  }
  return out;
}

/**
 * Mattermost's CSV (posts.csv): messages, attachments, and who was already in, joined or left each
 * channel, merged from three streams that are each sorted by time, so the rows come out sorted by
 * (time, post id) without holding the batch in memory.
 */
async function writeCsvRows(ctx: FormatContext, channels: Map<string, ChannelInfo>, out: ZipStreamEntry): Promise<void> {
  out.write(csvRow([...CSV_HEADER]));
  const rows = new CsvRows();
  const present = Peekable.of(ctx.source.channels('start'));
  const messages = new Peekable(ctx.source.messageChunks('create'));
  const events = Peekable.of(ctx.source.memberEvents());
  const unknown = (id: string): ChannelInfo => channels.get(id) ?? { id, name: '', displayName: '', type: 'O', teamId: '', teamName: '', teamDisplayName: '' };
  while (true) {
    const c = await present.peek();
    const m = await messages.peek();
    const e = await events.peek();
    const times = [c ? c.startTime : Infinity, m ? m.createAt : Infinity, e ? e.time : Infinity];
    const first = Math.min(...times);
    if (first === Infinity) break;
    if (times[0] === first) {
      await present.next();
      for (const p of c!.participants) {
        if (p.joinTime > c!.startTime) continue; // joined during the batch: an "enter" row at that time
        out.write(rows.alreadyIn(c!, p.user, c!.startTime));
      }
    } else if (times[1] === first) {
      await messages.next();
      countMessage(ctx.counts, m!);
      out.write(messageRows(ctx, rows, unknown(m!.channelId), m!));
    } else {
      await events.next();
      const join = e!.kind === 'join';
      ctx.counts[join ? 'joins' : 'leaves']++;
      const message = `User ${e!.user.username} (${e!.user.email}) ${join ? 'joined' : 'left'} the channel`;
      out.write(rows.row(unknown(e!.channelId), e!.user, { create: e!.time, update: '', updateType: '', postId: '', editedBy: '', root: '', message, type: join ? 'enter' : 'leave', previews: '' }));
    }
    if (out.backlogged) await out.drain();
  }
}

export const csvFormat: ExportFormat = {
  name: 'csv',
  async write(ctx) {
    // Channel names for every row: one small map per batch (the channels it touches), without members.
    const channels = new Map<string, ChannelInfo>();
    for await (const c of ctx.source.channels('id', { participants: false })) {
      ctx.counts.channels++;
      channels.set(c.id, { id: c.id, name: c.name, displayName: c.displayName, type: c.type, teamId: c.teamId, teamName: c.teamName, teamDisplayName: c.teamDisplayName });
    }
    const out = ctx.zip.entry('posts.csv');
    try {
      await writeCsvRows(ctx, channels, out);
    } catch (err) {
      out.abort();
      throw err;
    }
    await out.close();
    const metadata = { channels: Object.fromEntries([...channels.values()].map((c) => [c.id, c])), counts: ctx.counts };
    await ctx.zip.add('metadata.json', JSON.stringify(metadata, null, 2) + '\n');
  },
};
