// One RFC 5322 message per item (a post as it is, or one prior version of it), what review platforms
// ingest natively: the text as a UTF-8 part, attachments as base64 MIME parts, and Custodian's ids in
// X- headers so every EML leads back to its post.
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { base64Lines, headerText } from '../../export/formats/eml.ts';

export interface Person {
  id: string;
  username: string;
  email: string;
}

export interface ItemFile {
  id: string;
  name: string;
  mime_type: string;
  size: number;
  sha256: string;
  path: string;
  delete_at: number;
}

/** Everything an export writes about one item. */
export interface ExportItem {
  docId: string;
  parentDocId: string;
  itemType: 'message' | 'prior_version';
  state: 'original' | 'edited' | 'deleted' | 'prior_version';
  postId: string;
  versionId: number;
  rootId: string;
  message: string;
  sentAt: number;
  versionAt: number;
  replacedAt: number;
  deletedAt: number;
  sender: Person;
  /** Channel members when the message was sent (channel_member_history), sender included. */
  participants: Person[];
  custodians: string[];
  channel: { id: string; name: string; displayName: string; type: string };
  team?: { id: string; name: string; displayName: string };
  files: ItemFile[];
}

function mailDate(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function address(p: Person): string {
  const email = p.email.replace(/[\s<>,"\\()]/g, '') || `${p.id}@users.invalid`;
  return `${headerText(p.username)} <${email}>`;
}

/** A MIME parameter value: quoted ASCII, plus an RFC 2231 form for other characters. */
function filenameParams(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function base64Text(text: string): string {
  return (Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') + '\r\n';
}

function subjectOf(item: ExportItem): string {
  const where = item.team ? `${item.team.displayName || item.team.name} / ${item.channel.displayName || item.channel.name}` : item.channel.displayName || item.channel.name;
  const first = item.message.replace(/\s+/g, ' ').trim().slice(0, 60);
  return `[${where}] ${first}${item.message.length > 60 ? '…' : ''}`;
}

/**
 * The EML of one item, as chunks. `openFile` gives an attachment's content, or undefined when it is
 * missing from the store (the part then says so, and `onMissing` is told).
 */
export async function* emlOf(item: ExportItem, host: string, openFile: (f: ItemFile) => Promise<Readable | undefined>, onMissing: (f: ItemFile) => void): AsyncGenerator<string> {
  const boundary = `=_custodian_${crypto.createHash('sha256').update(item.docId).digest('hex').slice(0, 24)}`;
  const others = item.participants.filter((p) => p.id !== item.sender.id);
  const headers = [
    `From: ${address(item.sender)}`,
    `To: ${others.length ? others.map(address).join(',\r\n ') : 'undisclosed-recipients:;'}`,
    `Date: ${mailDate(item.versionAt)}`,
    `Subject: ${headerText(subjectOf(item))}`,
    `Message-ID: <${item.postId}.${item.versionId}@${host}>`,
    ...(item.rootId ? [`In-Reply-To: <${item.rootId}.0@${host}>`, `References: <${item.rootId}.0@${host}>`] : []),
    'MIME-Version: 1.0',
    `X-Custodian-DocID: ${item.docId}`,
    ...(item.parentDocId ? [`X-Custodian-Parent-DocID: ${item.parentDocId}`] : []),
    `X-Custodian-Item-Type: ${item.itemType}`,
    `X-Custodian-State: ${item.state}`,
    `X-Custodian-Post-Id: ${item.postId}`,
    ...(item.versionId ? [`X-Custodian-Version-Id: ${item.versionId}`] : []),
    `X-Custodian-Sent: ${new Date(item.sentAt).toISOString()}`,
    ...(item.replacedAt ? [`X-Custodian-Replaced: ${new Date(item.replacedAt).toISOString()}`] : []),
    ...(item.deletedAt ? [`X-Custodian-Deleted: ${new Date(item.deletedAt).toISOString()}`] : []),
    `X-Custodian-Channel: ${headerText(item.channel.name)} (${item.channel.id}, type ${item.channel.type})`,
    ...(item.team ? [`X-Custodian-Team: ${headerText(item.team.name)} (${item.team.id})`] : []),
    ...(item.custodians.length ? [`X-Custodian-Custodians: ${headerText(item.custodians.join(', '))}`] : []),
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
  ];
  yield headers.join('\r\n') + '\r\n\r\n';
  yield `This is a multi-part message in MIME format.\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  yield base64Text(item.message);
  for (const file of item.files) {
    const content = await openFile(file);
    yield `--${boundary}\r\n`;
    if (!content) {
      onMissing(file);
      yield `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\nX-Custodian-Missing-File: ${file.id}\r\n\r\n`;
      yield base64Text(`The attachment ${file.name} (${file.id}, SHA-256 ${file.sha256}) is missing from the file store.`);
      continue;
    }
    const type = /^[\w.+-]+\/[\w.+-]+$/.test(file.mime_type) ? file.mime_type : 'application/octet-stream';
    yield `Content-Type: ${type}\r\nContent-Disposition: attachment; ${filenameParams(file.name)}\r\nContent-Transfer-Encoding: base64\r\nX-Custodian-File-Id: ${file.id}\r\nX-Custodian-File-SHA256: ${file.sha256}\r\n\r\n`;
    yield* base64Lines(content);
  }
  yield `--${boundary}--\r\n`;
}
