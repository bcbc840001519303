import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { recordAudit } from '../../audit/index.ts';
import { readCheckpointFile } from '../../audit/checkpoints.ts';
import { verifyText } from '../../audit/keys.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { freePort } from '../support/cli.ts';

/** A syslog receiver speaking RFC 6587 octet counting; collects messages. */
function syslogReceiver(port: number) {
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString());
        if (buffer.length < space + 1 + length) return;
        messages.push(buffer.subarray(space + 1, space + 1 + length).toString());
        buffer = buffer.subarray(space + 1 + length);
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    messages,
    listen: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve())),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const record = (app: TestApp, i: number) => recordAudit(app.services.db, { event_name: 'stream_test', status: i % 4 === 0 ? 'fail' : 'success', actor: { user_id: `u${i}` }, meta: { api_path: '/t', node_id: 'n' }, event: { parameters: { i, padding: 'x'.repeat(200) } } });

describe('audit checkpoints outside the database, and streaming', () => {
  let app: TestApp;
  let port: number;
  let syslog: ReturnType<typeof syslogReceiver>;

  before(async () => {
    port = await freePort();
    syslog = syslogReceiver(port);
    // The syslog receiver is down at first: requests must not notice, and nothing may be lost.
    app = await bootApp({ CUSTODIAN_AUDIT_CHECKPOINT_RECORDS: '5', CUSTODIAN_AUDIT_SYSLOG_URL: `tcp://127.0.0.1:${port}`, CUSTODIAN_AUDIT_STREAM_MAX_BYTES: '4096', CUSTODIAN_AUDIT_STREAM_MAX_FILES: '3' });
  });
  after(async () => {
    await syslog.close();
  });

  it('signs a checkpoint every N records by itself and appends it, fsynced, to <dataDir>/audit/checkpoints.jsonl', async () => {
    for (let i = 0; i < 12; i++) await record(app, i);
    await until(async () => Number((await app.ownerDb('audit_checkpoints').count({ n: '*' }))[0].n) >= 2);
    const file = path.join(app.dataDir, 'audit', 'checkpoints.jsonl');
    await until(() => readCheckpointFile(file).length >= 2);
    const fromFile = readCheckpointFile(file);
    const inDb = await app.ownerDb('audit_checkpoints').orderBy('number').select('body', 'signature');
    expect(fromFile.map((c) => c.text)).to.deep.equal(inDb.slice(0, fromFile.length).map((r: { body: string }) => r.body));
    const [pub] = app.services.audit.keys.publicKeys();
    for (const c of fromFile) expect(verifyText(pub.publicKeyPem, c.text, c.signature)).to.equal(true);
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    const keyFile = fs.readdirSync(path.join(app.dataDir, 'keys')).find((f) => f.startsWith('audit-') && f.endsWith('.key.pem'))!;
    expect(fs.statSync(path.join(app.dataDir, 'keys', keyFile)).mode & 0o777).to.equal(0o600);
  });

  it('streams records to a rotating JSON Lines file', async () => {
    for (let i = 12; i < 30; i++) await record(app, i);
    await app.services.audit.sync();
    const dir = path.join(app.dataDir, 'audit', 'stream');
    const files = fs.readdirSync(dir);
    expect(files.filter((f) => /^audit-.+\.jsonl$/.test(f)).length, 'rotated files, at most 3 kept').to.be.within(1, 3);
    const current = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const head = Number((await app.ownerDb('audit_head').first('seq')).seq);
    expect(current.at(-1).record.seq).to.equal(head);
    expect(current.at(-1).hash).to.equal((await app.ownerDb('audit_log').where({ seq: head }).first('hash')).hash.toString('hex'));
  });

  it('delivers every record and checkpoint to syslog once it is reachable (RFC 5424, at least once)', async () => {
    await syslog.listen();
    await app.services.audit.sync();
    const head = Number((await app.ownerDb('audit_head').first('seq')).seq);
    await until(() => syslog.messages.filter((m) => m.includes(' audit ')).length >= head);
    const audits = syslog.messages.filter((m) => / custodian \d+ audit /.test(m));
    const seqs = new Set(audits.map((m) => Number(/seq="(\d+)"/.exec(m)![1])));
    for (let s = 1; s <= head; s++) expect(seqs.has(s), `seq ${s}`).to.equal(true);
    const failed = audits.find((m) => m.includes('"status":"fail"'))!;
    expect(failed).to.match(/^<108>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ custodian \d+ audit \[custodian@32473 seq="\d+" event="stream_test"\] \uFEFF\{"hash":"[0-9a-f]{64}","record":\{/);
    expect(audits.find((m) => m.includes('"status":"success"'))).to.match(/^<109>1 /);
    await until(() => syslog.messages.some((m) => / checkpoint \[custodian@32473 number="1"/.test(m)));
  });

  it('writes a final checkpoint at clean shutdown', async () => {
    await record(app, 99);
    await app.services.audit.flush();
    const head = Number((await app.ownerDb('audit_head').first('seq')).seq);
    const file = path.join(app.dataDir, 'audit', 'checkpoints.jsonl');
    const dataDir = app.dataDir;
    const keep = fs.mkdtempSync(path.join(path.dirname(dataDir), 'custodian-kept-'));
    const stop = app.stop.bind(app);
    await stop();
    fs.copyFileSync(file, path.join(keep, 'checkpoints.jsonl'));
    await app.close();
    const checkpoints = readCheckpointFile(path.join(keep, 'checkpoints.jsonl'));
    fs.rmSync(keep, { recursive: true, force: true });
    expect(checkpoints.at(-1)!.body.seq_end).to.be.at.least(head);
  });
});
