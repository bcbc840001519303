import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { channelTypeName, type ExportChannel, type ExportFile, type ExportMessage } from '../records.ts';
import { countMessage, isoTime, Peekable, type ExportFormat, type FormatContext } from './format.ts';
import { zipSafeName } from './text.ts';

/** Global Relay refuses larger mails: attachments spill into further mails, and one that alone is too big is left out. */
export const EML_SIZE_CAP = 250 * 1024 * 1024;
const PRODUCT = 'Custodian';

// eslint-disable-next-line no-control-regex
const headerUnsafe = /[\u0000-\u001f\u007f]/g;

/** A header value: ASCII as is, anything else as RFC 2047 encoded words (never a raw CR or LF). */
export function headerText(value: string): string {
  const clean = value.toWellFormed().replace(headerUnsafe, ' ');
  if (/^[\x20-\x7e]*$/.test(clean)) return clean;
  const words: string[] = [];
  let current = '';
  for (const ch of clean) {
    if (Buffer.byteLength(current + ch) > 45) {
      words.push(current);
      current = '';
    }
    current += ch;
  }
  if (current) words.push(current);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

function address(email: string): string {
  return `<${email.replace(/[\s<>,"\\()]/g, '')}>`;
}

/** RFC 5322 date-time in UTC. */
function mailDate(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function html(value: string | number): string {
  // eslint-disable-next-line no-control-regex
  return String(value).toWellFormed().replace(/[&<>"']/g, (c) => htmlEntities[c]).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

/** Base64 lines of 76 characters from a stream (chunks re-cut at multiples of 57 bytes). */
export async function* base64Lines(source: Readable): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of source) {
    const data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    const whole = data.length - (data.length % 57);
    carry = data.subarray(whole);
    let out = '';
    for (let i = 0; i < whole; i += 57) out += data.subarray(i, i + 57).toString('base64') + '\r\n';
    if (out) yield out;
  }
  if (carry.length) yield carry.toString('base64') + '\r\n';
}

/** Appends text to a file through a small buffer (the bodies of a channel can be large). */
class TextFile {
  readonly file: string;
  size = 0;
  private handle?: fsp.FileHandle;
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(file: string) {
    this.file = file;
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength > 65_536) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    this.handle ??= await fsp.open(this.file, 'w', 0o600);
    const buf = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
    this.size += buf.length;
    await this.handle.write(buf);
  }

  async close(): Promise<void> {
    await this.flush();
    this.handle ??= await fsp.open(this.file, 'w', 0o600);
    await this.handle.close();
  }
}

interface Attachment {
  message: ExportMessage;
  file: ExportFile;
}

function participantRows(channel: ExportChannel): { text: string; html: string } {
  let text = '';
  let rows = '';
  for (const p of channel.participants) {
    const joined = Math.max(p.joinTime, channel.startTime);
    const left = p.leaveTime !== undefined && p.leaveTime <= channel.endTime ? p.leaveTime : channel.endTime;
    const count = channel.messageCounts.get(p.user.id) ?? 0;
    const type = p.user.isBot ? 'bot' : 'user';
    text += `  ${p.user.username} (${type}) <${p.user.email}> joined ${isoTime(joined)} left ${isoTime(left)} duration ${duration(left - joined)} messages ${count}\n`;
    rows += `<tr><td>${html(p.user.username)}</td><td>${type}</td><td>${html(p.user.email)}</td><td>${isoTime(joined)}</td><td>${isoTime(left)}</td><td>${duration(left - joined)}</td><td>${count}</td></tr>\n`;
  }
  return { text, html: rows };
}

/** Writes a channel's text and HTML bodies to temporary files, collecting its attachments. */
async function writeBodies(ctx: FormatContext, channel: ExportChannel, messages: Peekable<ExportMessage>, dir: string) {
  const text = new TextFile(path.join(dir, 'body.txt'));
  const page = new TextFile(path.join(dir, 'body.html'));
  const attachments: Attachment[] = [];
  const header: [string, string][] = [
    ['Team', channel.teamDisplayName || channel.teamName || '-'], ['Channel', `${channel.displayName || channel.name} (${channelTypeName(channel.type)})`],
    ['Started', isoTime(channel.startTime)], ['Ended', isoTime(channel.endTime)], ['Duration', duration(channel.endTime - channel.startTime)], ['Exported on', isoTime(ctx.exportTime)],
  ];
  const people = participantRows(channel);
  await text.write(header.map(([k, v]) => `${k}: ${v}`).join('\n') + '\n\nParticipants:\n' + people.text + '\nMessages:\n');
  await page.write(
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${html(channel.displayName || channel.name)}</title></head><body>\n<table>\n` +
      header.map(([k, v]) => `<tr><th>${k}</th><td>${html(v)}</td></tr>`).join('\n') +
      '\n</table>\n<h3>Participants</h3>\n<table>\n<tr><th>Username</th><th>UserType</th><th>Email</th><th>Joined</th><th>Left</th><th>Duration</th><th>Messages</th></tr>\n' +
      people.html + '</table>\n<h3>Messages</h3>\n<table>\n<tr><th>Time</th><th>Username</th><th>UserType</th><th>Email</th><th>Message</th><th>Updated</th><th>Update type</th></tr>\n',
  );
  while ((await messages.peek())?.channelId === channel.id) {
    const m = (await messages.next())!;
    countMessage(ctx.counts, m);
    const type = m.user.isBot ? 'bot' : 'user';
    const updated = m.updateType ? isoTime(m.updateAt) : '';
    await text.write(`  ${isoTime(m.createAt)} ${m.user.username} (${type}) <${m.user.email}>${m.updateType ? ` [${m.updateType} ${updated}]` : ''}: ${m.message}\n`);
    await page.write(`<tr><td>${isoTime(m.createAt)}</td><td>${html(m.user.username)}</td><td>${type}</td><td>${html(m.user.email)}</td><td>${html(m.message).replace(/\n/g, '<br>')}</td><td>${updated}</td><td>${m.updateType}</td></tr>\n`);
    if (m.source === 'post') for (const file of m.files) if (file.deleteAt === 0) attachments.push({ message: m, file });
  }
  await page.write('</table>\n</body></html>\n');
  await text.close();
  await page.close();
  return { text, page, attachments };
}

function mimePart(type: string, extra: string[]): string {
  return [`Content-Type: ${type}`, ...extra, 'Content-Transfer-Encoding: base64', '', ''].join('\r\n');
}

/** One mail: headers, the bodies (first mail) or a note (continuations), and its share of the attachments. */
async function* mail(ctx: FormatContext, channel: ExportChannel, props: { n: number; total: number; bodies?: { text: string; page: string }; attachments: Attachment[] }): AsyncGenerator<string | Buffer> {
  const boundary = `=_custodian_${crypto.createHash('sha256').update(`${ctx.jobId}:${ctx.batchSeq}:${channel.id}:${props.n}`).digest('hex').slice(0, 24)}`;
  const alternative = `${boundary}_alt`;
  const emails = [...new Set(channel.participants.map((p) => p.user.email).filter(Boolean))];
  const from = emails[0] ?? 'unknown@localhost';
  yield [
    `From: ${address(from)}`,
    `To: ${emails.length ? emails.map(address).join(',\r\n ') : address(from)}`,
    `Subject: ${headerText(`${PRODUCT} Compliance Export: ${channel.displayName || channel.name}${props.total > 1 ? ` (${props.n}/${props.total})` : ''}`)}`,
    `Date: ${mailDate(ctx.exportTime)}`,
    `Message-ID: <${ctx.jobId}.${ctx.batchSeq}.${channel.id}.${props.n}@custodian.export>`,
    'MIME-Version: 1.0',
    'Auto-Submitted: auto-generated',
    'Precedence: bulk',
    `X-GlobalRelay-MsgType: ${PRODUCT}`,
    `X-${PRODUCT}-ChannelName: ${headerText(channel.name)}`,
    `X-${PRODUCT}-ChannelID: ${channel.id}`,
    `X-${PRODUCT}-ChannelType: ${channelTypeName(channel.type)}`,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    `Content-Type: multipart/alternative; boundary="${alternative}"`,
    '',
    `--${alternative}`,
    mimePart('text/plain; charset=UTF-8', []),
  ].join('\r\n');
  if (props.bodies) {
    yield* base64Lines(fs.createReadStream(props.bodies.text, { highWaterMark: 57 * 1024 }));
    yield `--${alternative}\r\n` + mimePart('text/html; charset=UTF-8', []);
    yield* base64Lines(fs.createReadStream(props.bodies.page, { highWaterMark: 57 * 1024 }));
  } else {
    const note = Buffer.from(`Attachments of ${channel.displayName || channel.name}, continued (${props.n}/${props.total}).\n`);
    yield note.toString('base64') + '\r\n';
    yield `--${alternative}\r\n` + mimePart('text/html; charset=UTF-8', []);
    yield Buffer.from(`<p>${html(note.toString())}</p>\n`).toString('base64') + '\r\n';
  }
  yield `--${alternative}--\r\n`;
  for (const { message, file } of props.attachments) {
    const content = await ctx.openFile(message, file);
    if (!content) continue;
    ctx.counts.attachments++;
    const name = file.name.toWellFormed().replace(headerUnsafe, '_').replace(/["\\]/g, '_');
    yield `--${boundary}\r\n` + mimePart(`${file.mimeType.replace(headerUnsafe, '') || 'application/octet-stream'}; name="${headerText(name)}"`, [`Content-Disposition: attachment; filename="${headerText(name)}"`]);
    yield* base64Lines(content);
  }
  yield `--${boundary}--\r\n`;
}

/**
 * Global Relay EML: per channel with activity, one RFC 5322 mail (`<channel name> - (<channel id>) -
 * <n>.eml`) with a text and an HTML body (header block, participants table, one row per message) and
 * the attachments as MIME parts. Attachments beyond the 250 MiB cap move to further mails; one that
 * alone exceeds it is left out with a warning.
 */
export const globalRelayFormat: ExportFormat = {
  name: 'globalrelay',
  async write(ctx) {
    const messages = new Peekable(ctx.source.messageChunks('channel'));
    for await (const channel of ctx.source.channels()) {
      ctx.counts.channels++;
      const dir = await fsp.mkdtemp(path.join(ctx.tempDir, 'eml-'));
      try {
        const { text, page, attachments } = await writeBodies(ctx, channel, messages, dir);
        const base64 = (n: number) => Math.ceil(n / 57) * 78;
        const chunks: Attachment[][] = [[]];
        let used = base64(text.size) + base64(page.size) + 16_384;
        for (const a of attachments) {
          const cost = base64(a.file.size) + 1024;
          if (cost + 16_384 > EML_SIZE_CAP) {
            ctx.warn(`attachment ${a.file.id} (${a.file.name}, ${a.file.size} bytes) of post ${a.message.postId} is larger than the ${EML_SIZE_CAP}-byte mail cap and was left out`);
            continue;
          }
          if (used + cost > EML_SIZE_CAP) {
            chunks.push([]);
            used = 16_384;
          }
          chunks.at(-1)!.push(a);
          used += cost;
        }
        for (let i = 0; i < chunks.length; i++) {
          const name = `${zipSafeName(channel.name, 'channel')} - (${channel.id}) - ${i + 1}.eml`;
          await ctx.zip.add(name, mail(ctx, channel, { n: i + 1, total: chunks.length, bodies: i === 0 ? { text: text.file, page: page.file } : undefined, attachments: chunks[i] }));
        }
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    }
    if (await messages.peek()) throw new Error('export messages and channels went out of step');
    for await (const event of ctx.source.memberEvents()) ctx.counts[event.kind === 'join' ? 'joins' : 'leaves']++;
  },
};
