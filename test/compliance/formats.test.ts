import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CSV_HEADER } from '../../compliance/export/formats/csv.ts';
import { batchesOf, buildFixture, expectGolden, HOSTILE, normalise, runExport, zipEntries, type Fixture } from './fixture.ts';

/** Decodes the base64 MIME parts of a mail so its golden file shows (and normalises) the text. */
function decodeBase64Parts(eml: string): string {
  return eml.replace(/(Content-Transfer-Encoding: base64\r\n\r\n)([A-Za-z0-9+/=\r\n]+?)(?=\r\n--)/g, (_m, head: string, body: string) => `${head}[decoded]\n${Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8')}`);
}

describe('compliance export formats (golden files)', () => {
  let f: Fixture;
  const outputs = new Map<string, Map<string, Buffer>>();

  before(async function () {
    this.timeout(60_000);
    f = await buildFixture();
    for (const format of ['actiance', 'csv', 'globalrelay', 'jsonl']) {
      const job = await runExport(f, { format, from: '0' });
      const batches = await batchesOf(f.app, job.id);
      expect(batches).to.have.length(1);
      outputs.set(format, await zipEntries(batches[0].file));
    }
  });
  after(async () => f?.app.close());

  it('writes Actiance XML that parses, keeps the reference element order and matches its golden file', () => {
    const entries = outputs.get('actiance')!;
    const xml = entries.get('actiance_export.xml')!.toString('utf8');
    expect(XMLValidator.validate(xml)).to.equal(true);
    const parsed = new XMLParser({ preserveOrder: true, ignoreAttributes: false, parseTagValue: false, trimValues: false }).parse(xml);
    const dump = parsed.find((n: Record<string, unknown>) => 'FileDump' in n).FileDump as Record<string, unknown>[];
    const conversations = dump.filter((n) => 'Conversation' in n).map((n) => n.Conversation as Record<string, unknown>[]);
    expect(conversations).to.have.length(4);
    const rank = ['RoomID', 'StartTimeUTC', 'ParticipantEntered', 'Message', 'FileTransferStarted', 'FileTransferEnded', 'ParticipantLeft', 'EndTimeUTC'];
    for (const children of conversations) {
      const order = children.map((c) => Object.keys(c).find((k) => k !== ':@')!).filter((k) => k !== '#text').map((k) => rank.indexOf(k));
      expect(order).to.not.include(-1);
      expect(order, 'element order').to.deep.equal([...order].sort((a, b) => a - b));
    }
    // Any Unicode in, the same text out (controls that XML cannot carry become U+FFFD).
    // eslint-disable-next-line no-control-regex
    const expected = HOSTILE.replace(/[\u0000-\u0008]/g, '\ufffd');
    expect(xml).to.not.include('\u0001');
    const contents = [...xml.matchAll(/<Content>([\s\S]*?)<\/Content>/g)].map((m) => new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true }).parse(`<c>${m[1]}</c>`).c);
    expect(contents).to.include(expected);
    expect(entries.has('warning.txt')).to.equal(true);
    expect(entries.get('warning.txt')!.toString()).to.match(/lost\.txt.*missing from the file store/);
    expect([...entries.keys()].some((n) => n.startsWith('files/') && n.endsWith('minutes.txt'))).to.equal(true);
    expectGolden('actiance_export.xml', normalise(xml));
  });

  it('writes CSV with exactly Mattermost\'s header, neutralised formulas, and matches its golden file', () => {
    const csv = outputs.get('csv')!.get('posts.csv')!.toString('utf8');
    const header = csv.split('\r\n')[0];
    expect(header).to.equal('Post Creation Time,Post Update Time,Post Update Type,Team Id,Team Name,Team Display Name,Channel Id,Channel Name,Channel Display Name,Channel Type,User Id,User Email,Username,Post Id,Edited By Post Id,Replied to Post Id,Post Message,Post Type,User Type,Previews Post Id');
    expect(header.split(',')).to.deep.equal([...CSV_HEADER]);
    expect(csv).to.include(`"'=HYPERLINK(""http://evil.example"",""x"")`);
    expect(csv).to.match(/carol \(carol@example\.com\) joined the channel,enter/);
    expect(csv).to.match(/carol \(carol@example\.com\) left the channel,leave/);
    expect(csv).to.include(',EditedOriginalMsg,');
    expect(csv).to.include(',Deleted,');
    expectGolden('posts.csv', normalise(csv));
  });

  it('writes one Global Relay mail per channel and matches its golden files', () => {
    const entries = outputs.get('globalrelay')!;
    const mails = [...entries.keys()].filter((n) => n.endsWith('.eml'));
    expect(mails).to.have.length(4);
    for (const name of mails) {
      const eml = entries.get(name)!.toString('utf8');
      expect(eml).to.match(/^From: <[^>]+>\r\nTo: /);
      expect(eml).to.include('Auto-Submitted: auto-generated\r\nPrecedence: bulk\r\nX-GlobalRelay-MsgType: Custodian\r\n');
      expect(eml).to.not.match(/[^\r]\n/);
    }
    const all = mails.map((n) => `=== ${n}\n${decodeBase64Parts(entries.get(n)!.toString('utf8'))}`).join('\n');
    expectGolden('globalrelay.eml.txt', normalise(all));
  });

  it('writes the native JSONL losslessly (reactions, props, file hashes) and matches its golden file', () => {
    const text = outputs.get('jsonl')!.get('export.jsonl')!.toString('utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const hostile = lines.find((l) => l.type === 'message' && l.post_id === f.posts.hostile && l.source === 'post');
    expect(hostile.message).to.equal(HOSTILE);
    expect(hostile.reactions.map((r: { emoji_name: string }) => r.emoji_name)).to.deep.equal(['smile']);
    expectGolden('export.jsonl', normalise(text));
  });
});
