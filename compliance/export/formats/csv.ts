import { channelTypeName, type ExportChannel, type ExportMessage, type ExportUser } from '../records.ts';
import { countMessage, Peekable, type ExportFormat, type FormatContext } from './format.ts';
import { csvRow } from './text.ts';

/** Mattermost's message export CSV header, column for column. */
export const CSV_HEADER = [
  'Post Creation Time', 'Post Update Time', 'Post Update Type', 'Team Id', 'Team Name', 'Team Display Name', 'Channel Id', 'Channel Name',
  'Channel Display Name', 'Channel Type', 'User Id', 'User Email', 'Username', 'Post Id', 'Edited By Post Id', 'Replied to Post Id',
  'Post Message', 'Post Type', 'User Type', 'Previews Post Id',
] as const;

type ChannelInfo = Pick<ExportChannel, 'id' | 'name' | 'displayName' | 'type' | 'teamId' | 'teamName' | 'teamDisplayName'>;

function row(channel: ChannelInfo, user: ExportUser, cells: { create: number; update: number | ''; updateType: string; postId: string; editedBy: string; root: string; message: string; type: string; previews: string }): string {
  return csvRow([
    cells.create, cells.update, cells.updateType, channel.teamId, channel.teamName, channel.teamDisplayName, channel.id, channel.name,
    channel.displayName, channelTypeName(channel.type), user.id, user.email, user.username, cells.postId, cells.editedBy, cells.root,
    cells.message, cells.type, user.isBot ? 'bot' : 'user', cells.previews,
  ]);
}

function messageRows(ctx: FormatContext, channel: ChannelInfo, m: ExportMessage): string {
  const base = { create: m.createAt, update: m.updateType ? m.updateAt : ('' as const), updateType: m.updateType, postId: m.id, editedBy: m.editedNewMsgId, root: m.rootId, previews: m.previewsPost };
  let out = row(channel, m.user, { ...base, message: m.message, type: m.postType || 'message' });
  if (m.source !== 'post' && m.source !== 'file') return out;
  for (const file of m.files) {
    const deleted = file.deleteAt > 0;
    const path = deleted ? `files/${m.postId}/${file.id}` : ctx.attach(m, file);
    if (m.source === 'post' && deleted) continue; // its FileDeleted record follows as its own row
    out += row(channel, m.user, { ...base, message: `${file.name} (${path})`, type: deleted ? 'deleted attachment' : 'attachment' });
  }
  return out;
}

/**
 * Mattermost's CSV (posts.csv): messages, attachments, and who was already in, joined or left each
 * channel, merged from three streams that are each sorted by time, so the rows come out sorted by
 * (time, post id) without holding the batch in memory.
 */
async function* csvRows(ctx: FormatContext, channels: Map<string, ChannelInfo>): AsyncGenerator<string> {
  yield csvRow([...CSV_HEADER]);
  const present = new Peekable(ctx.source.channels('start'));
  const messages = new Peekable(ctx.source.messages('create'));
  const events = new Peekable(ctx.source.memberEvents());
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
        yield row(c!, p.user, { create: c!.startTime, update: '', updateType: '', postId: '', editedBy: '', root: '', message: `User ${p.user.username} (${p.user.email}) was already in the channel`, type: 'previously-joined', previews: '' });
      }
    } else if (times[1] === first) {
      await messages.next();
      countMessage(ctx.counts, m!);
      yield messageRows(ctx, unknown(m!.channelId), m!);
    } else {
      await events.next();
      const join = e!.kind === 'join';
      ctx.counts[join ? 'joins' : 'leaves']++;
      const message = `User ${e!.user.username} (${e!.user.email}) ${join ? 'joined' : 'left'} the channel`;
      yield row(unknown(e!.channelId), e!.user, { create: e!.time, update: '', updateType: '', postId: '', editedBy: '', root: '', message, type: join ? 'enter' : 'leave', previews: '' });
    }
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
    await ctx.zip.add('posts.csv', csvRows(ctx, channels));
    const metadata = { channels: Object.fromEntries([...channels.values()].map((c) => [c.id, c])), counts: ctx.counts };
    await ctx.zip.add('metadata.json', JSON.stringify(metadata, null, 2) + '\n');
  },
};
