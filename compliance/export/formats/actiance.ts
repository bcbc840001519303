import { channelTypeName, type ExportChannel, type ExportMessage } from '../records.ts';
import { countMessage, Peekable, type ExportFormat, type FormatContext } from './format.ts';
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

function presenceXml(tag: 'ParticipantEntered' | 'ParticipantLeft', p: Presence): string {
  const email = xmlText(p.email);
  return `    <${tag}>\n      <LoginName>${email}</LoginName>\n      <UserType>${p.userType}</UserType>\n      <DateTimeUTC>${p.time}</DateTimeUTC>\n      <CorporateEmailID>${email}</CorporateEmailID>\n    </${tag}>\n`;
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
 * merged, so only one channel's file transfers are held in memory at a time.
 */
async function* actianceXml(ctx: FormatContext): AsyncGenerator<string> {
  const messages = new Peekable(ctx.source.messages('channel'));
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<FileDump xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n';
  for await (const channel of ctx.source.channels('id')) {
    ctx.counts.channels++;
    const { entered, left } = presences(channel);
    yield `  <Conversation Perspective="${xmlText(channel.displayName || channel.name)}">\n`;
    yield `    <RoomID>${xmlText(`${channelTypeName(channel.type)} - ${channel.name} - ${channel.id}`)}</RoomID>\n`;
    yield `    <StartTimeUTC>${channel.startTime}</StartTimeUTC>\n`;
    for (const p of entered) yield presenceXml('ParticipantEntered', p);
    const started: string[] = [];
    const ended: string[] = [];
    while ((await messages.peek())?.channelId === channel.id) {
      const m = (await messages.next())!;
      countMessage(ctx.counts, m);
      yield messageXml(m);
      if (m.source !== 'post') continue;
      for (const file of m.files) {
        if (file.deleteAt > 0) continue;
        const path = ctx.attach(m, file);
        started.push(transferXml('FileTransferStarted', m, file.name, path));
        ended.push(transferXml('FileTransferEnded', m, file.name, path));
      }
    }
    yield* started;
    yield* ended;
    for (const p of left) yield presenceXml('ParticipantLeft', p);
    yield `    <EndTimeUTC>${channel.endTime}</EndTimeUTC>\n  </Conversation>\n`;
  }
  if (await messages.peek()) throw new Error('export messages and channels went out of step');
  yield '</FileDump>\n';
  for await (const event of ctx.source.memberEvents()) ctx.counts[event.kind === 'join' ? 'joins' : 'leaves']++;
}

export const actianceFormat: ExportFormat = {
  name: 'actiance',
  async write(ctx) {
    await ctx.zip.add(ACTIANCE_FILE, actianceXml(ctx));
  },
};
