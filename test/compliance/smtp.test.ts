import { expect } from 'chai';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { client4 } from '../support/client.ts';
import { freePort } from '../support/cli.ts';
import { batchesOf, buildFixture, waitForJob, zipEntries, type Fixture } from './fixture.ts';

/** A self-signed certificate for localhost, trusted by the app through CUSTODIAN_EXPORT_SMTP_CA_FILE. */
function localhostCertificate(): { key: string; cert: string } {
  const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '0a' + crypto.randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const subject = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }]);
  const keyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { key: keyPem, cert: forge.pki.certificateToPem(cert) };
}

interface Received {
  from: string;
  to: string[];
  secure: boolean;
  user: string;
  raw: Buffer;
}

/** A real SMTP server on loopback (STARTTLS, AUTH) that keeps what it receives. */
async function startSmtp(tls: { key: string; cert: string }, options: { starttls: boolean }) {
  const received: Received[] = [];
  const connections: number[] = [];
  const port = await freePort();
  const server = new SMTPServer({
    key: tls.key, cert: tls.cert, secure: false, logger: false, authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: options.starttls ? [] : ['STARTTLS'], allowInsecureAuth: false,
    onConnect(_session, callback) {
      connections.push(Date.now());
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === 'exporter' && auth.password === 's3cret pass') callback(null, { user: auth.username });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: String(session.envelope.mailFrom && session.envelope.mailFrom.address), to: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, user: String(session.user), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received, connections, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Global Relay delivery over SMTP with STARTTLS (a real SMTP server on loopback)', () => {
  const tls = localhostCertificate();
  let dir: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let f: Fixture;

  before(async function () {
    this.timeout(60_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-smtp-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), tls.cert);
    fs.writeFileSync(path.join(dir, 'password'), 's3cret pass\n');
    smtp = await startSmtp(tls, { starttls: true });
    f = await buildFixture({
      CUSTODIAN_EXPORT_GLOBALRELAY_DELIVERY: 'smtp', CUSTODIAN_EXPORT_SMTP_HOST: 'localhost', CUSTODIAN_EXPORT_SMTP_PORT: String(smtp.port),
      CUSTODIAN_EXPORT_SMTP_USERNAME: 'exporter', CUSTODIAN_EXPORT_SMTP_PASSWORD_FILE: path.join(dir, 'password'),
      CUSTODIAN_EXPORT_SMTP_TO: 'archive@globalrelay.test', CUSTODIAN_EXPORT_SMTP_FROM: 'custodian@acme.test', CUSTODIAN_EXPORT_SMTP_CA_FILE: path.join(dir, 'ca.pem'),
    });
  });
  after(async () => {
    await f?.app.close();
    await smtp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends every mail of the batch, byte for byte, over TLS after authenticating', async () => {
    const job = await client4(f.app, f.officer.token).createJob({ type: 'message_export', data: { format: 'globalrelay', from: '0' } } as never);
    const done = await waitForJob(f.app, f.officer.token, job.id);
    expect(done.status, JSON.stringify(done.data)).to.equal('warning'); // the missing attachment
    const [batch] = await batchesOf(f.app, job.id);
    const mails = [...(await zipEntries(batch.file))].filter(([name]) => name.endsWith('.eml'));
    expect(mails).to.have.length(4);
    expect(smtp.received).to.have.length(4);
    for (const r of smtp.received) {
      expect(r).to.include({ from: 'custodian@acme.test', secure: true, user: 'exporter' });
      expect(r.to).to.deep.equal(['archive@globalrelay.test']);
    }
    const sent = smtp.received.map((r) => r.raw.toString('utf8')).sort();
    expect(sent).to.deep.equal(mails.map(([, body]) => body.toString('utf8')).sort());
    expect(smtp.connections, 'one connection for the batch').to.have.length(1);
    const row = await f.app.ownerDb('compliance_export_batches').where({ job_id: job.id }).first();
    expect(row.delivery).to.equal('smtp');
  });

  it('fails the job, without moving the cursor, when the server does not offer STARTTLS', async function () {
    this.timeout(30_000);
    const plain = await startSmtp(tls, { starttls: false });
    try {
      const before = await f.app.ownerDb('compliance_export_batches').count('* as n');
      // Point the running app at the plain server for this one job.
      const services = f.app.services;
      const original = services.config.exportSmtpPort;
      (services.config as { exportSmtpPort: number }).exportSmtpPort = plain.port;
      try {
        const job = await client4(f.app, f.officer.token).createJob({ type: 'message_export', data: { format: 'globalrelay', from: '0' } } as never);
        const done = await waitForJob(f.app, f.officer.token, job.id);
        expect(done.status).to.equal('error');
        expect(done.data.error).to.match(/STARTTLS/i);
      } finally {
        (services.config as { exportSmtpPort: number }).exportSmtpPort = original;
      }
      expect(plain.received).to.have.length(0);
      expect(await f.app.ownerDb('compliance_export_batches').count('* as n')).to.deep.equal(before);
    } finally {
      await plain.close();
    }
  });
});
