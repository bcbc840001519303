import { channelTypeName, type ExportChannel, type ExportMessage } from '../records.ts';
import { countMessage, Peekable, type ExportFormat, type FormatContext } from './format.ts';
import type { ZipStreamEntry } from '../zip.ts';
import { xmlElement, xmlText } from './text.ts';

/** The XML document's name inside the batch zip, as Mattermost names it. */
export const ACTIANCE_FILE = 'actiance_export.xml';

interface Presence {
  email: string;
  userType: string;
  time: number;
}

function byTimeThenEmail(a: Presence, b: Presence): number {
  return a.time - b.time || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0);
}

/** ParticipantEntered / ParticipantLeft: everyone present during the batch, each leaving at the latest at its end. */
function presences(channel: ExportChannel): { entered: Presence[]; left: Presence[] } {
  const entered: Presence[] = [];
  const left: Presence[] = [];
  for (const p of channel.participants) {
    const userType = p.user.isBot ? 'bot' : 'user';
    entered.push({ email: p.user.email, userType, time: Math.max(p.joinTime, channel.startTime) });
    const leave = p.leaveTime !== undefined && p.leaveTime <= channel.endTime ? p.leaveTime : channel.endTime;
    left.push({ email: p.user.email, userType, time: leave });
  }
  return { entered: entered.sort(byTimeThenEmail), left: left.sort(byTimeThenEmail) };
}

/**
 * A participant element around its time. Every channel of every batch lists its members twice, so
 * the text around the time is built once per user and copied as bytes.
 */
class PresenceFragments {
  private readonly cache = new Map<string, [Buffer, Buffer]>();

  write(out: ZipStreamEntry, tag: 'ParticipantEntered' | 'ParticipantLeft', p: Presence): void {
    const key = `${tag}\u0000${p.userType}\u0000${p.email}`;
    let parts = this.cache.get(key);
    if (!parts) {
      const email = xmlText(p.email);
      parts = [
        Buffer.from(`    <${tag}>\n      <LoginName>${email}</LoginName>\n      <UserType>${p.userType}</UserType>\n      <DateTimeUTC>`),
        Buffer.from(`</DateTimeUTC>\n      <CorporateEmailID>${email}</CorporateEmailID>\n    </${tag}>\n`),
      ];
      this.cache.set(key, parts);
    }
    out.writeBytes(parts[0]);
    out.write(String(p.time));
    out.writeBytes(parts[1]);
  }
}

function messageXml(m: ExportMessage): string {
  const i = '      ';
  const updated = m.updateType !== '';
  return (
    '    <Message>\n' +
    xmlElement(i, 'MessageId', m.id) +
    xmlElement(i, 'LoginName', m.user.email) +
    `${i}<UserType>${m.user.isBot ? 'bot' : 'user'}</UserType>\n` +
    `${i}<DateTimeUTC>${m.createAt}</DateTimeUTC>\n` +
    (updated ? xmlElement(i, 'UpdatedType', m.updateType) + `${i}<UpdatedDateTimeUTC>${m.updateAt}</UpdatedDateTimeUTC>\n` : '') +
    xmlElement(i, 'EditedNewMsgId', m.editedNewMsgId) +
    `${i}<Content>${xmlText(m.message)}</Content>\n` +
    xmlElement(i, 'PreviewsPost', m.previewsPost) +
    '    </Message>\n'
  );
}

function transferXml(tag: 'FileTransferStarted' | 'FileTransferEnded', m: ExportMessage, name: string, path: string): string {
  const i = '      ';
  return (
    `    <${tag}>\n` +
    xmlElement(i, 'LoginName', m.user.email) +
    `${i}<DateTimeUTC>${m.createAt}</DateTimeUTC>\n` +
    xmlElement(i, 'UserFileName', name) +
    xmlElement(i, 'FileName', path) +
    (tag === 'FileTransferEnded' ? `${i}<Status>Completed</Status>\n` : '') +
    `    </${tag}>\n`
  );
}

/**
 * Actiance XML: one Conversation per channel with activity, in the element order archivers expect:
 * RoomID, StartTimeUTC, ParticipantEntered*, Message*, FileTransferStarted*, FileTransferEnded*,
 * ParticipantLeft*, EndTimeUTC. Channels and their messages are read in the same channel order and
 * merged, so only one channel's file transfers are held in memory at a time. Text goes straight into
 * the zip entry; the writer waits only when the compressor is behind.
 */
async function writeActianceXml(ctx: FormatContext, out: ZipStreamEntry): Promise<void> {
  const messages = new Peekable(ctx.source.messageChunks('channel'));
  const fragments = new PresenceFragments();
  out.write('<?xml version="1.0" encoding="UTF-8"?>\n<FileDump xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n');
  for await (const channel of ctx.source.channels('id')) {
    ctx.counts.channels++;
    const { entered, left } = presences(channel);
    out.write(`  <Conversation Perspective="${xmlText(channel.displayName || channel.name)}">\n`);
    out.write(`    <RoomID>${xmlText(`${channelTypeName(channel.type)} - ${channel.name} - ${channel.id}`)}</RoomID>\n`);
    out.write(`    <StartTimeUTC>${channel.startTime}</StartTimeUTC>\n`);
    for (const p of entered) fragments.write(out, 'ParticipantEntered', p);
    const started: string[] = [];
    const ended: string[] = [];
    while ((await messages.peek())?.channelId === channel.id) {
      const m = (await messages.next())!;
      countMessage(ctx.counts, m);
      out.write(messageXml(m));
      if (out.backlogged) await out.drain();
      if (m.source !== 'post') continue;
      for (const file of m.files) {
        if (file.deleteAt > 0) continue;
        const path = ctx.attach(m, file);
        started.push(transferXml('FileTransferStarted', m, file.name, path));
        ended.push(transferXml('FileTransferEnded', m, file.name, path));
      }
    }
    for (const text of started) out.write(text);
    for (const text of ended) out.write(text);
    for (const p of left) fragments.write(out, 'ParticipantLeft', p);
    out.write(`    <EndTimeUTC>${channel.endTime}</EndTimeUTC>\n  </Conversation>\n`);
    if (out.backlogged) await out.drain();
  }
  if (await messages.peek()) throw new Error('export messages and channels went out of step');
  out.write('</FileDump>\n');
  for await (const event of ctx.source.memberEvents()) ctx.counts[event.kind === 'join' ? 'joins' : 'leaves']++;
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
