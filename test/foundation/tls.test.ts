import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { ConfigError, loadConfig } from '../../server/config/load.ts';
import { generateTlsCertificate, loadTls } from '../../server/http/tls.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser } from '../support/factories.ts';

interface HttpsResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  peer: crypto.X509Certificate;
}

/** An HTTPS request that trusts only `ca` (never NODE_TLS_REJECT_UNAUTHORIZED). */
function httpsRequest(url: string, options: { ca?: string; servername?: string; method?: string; body?: unknown } = {}): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = https.request(url, { method: options.method ?? 'GET', ca: options.ca, servername: options.servername, agent: false, headers: payload ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const peer = new crypto.X509Certificate((res.socket as TLSSocket).getPeerX509Certificate()!.raw);
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, peer }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const silent = createLogger('silent');
const execFileAsync = promisify(execFile);

describe('HTTPS served directly (CUSTODIAN_TLS, CUSTODIAN_TLS_CERT_FILE)', function () {
  this.timeout(60_000);

  describe('with a self-signed certificate generated at first start', () => {
    let app: TestApp;
    let ca: string;
    before(async () => {
      app = await bootApp({ CUSTODIAN_TLS: 'self-signed' });
      ca = fs.readFileSync(path.join(app.services.config.dataDir, 'keys', 'tls.crt'), 'utf8');
    });
    after(() => app.close());

    it('serves ping over https to a client that trusts the generated certificate', async () => {
      expect(app.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsRequest(`${app.url}/api/v4/system/ping`, { ca });
      expect(res.status).to.equal(200);
      expect(JSON.parse(res.body)).to.include({ status: 'OK' });
      const byName = await httpsRequest(`${app.url}/api/v4/system/ping`, { ca, servername: 'localhost' });
      expect(byName.status).to.equal(200);
    });

    it('is refused by a client that does not trust it', async () => {
      let error: NodeJS.ErrnoException | undefined;
      await httpsRequest(`${app.url}/api/v4/system/ping`).catch((err) => (error = err));
      expect(error?.code).to.equal('DEPTH_ZERO_SELF_SIGNED_CERT');
    });

    it('names the site host, localhost and the loopback addresses, for server authentication only', async () => {
      const { peer } = await httpsRequest(`${app.url}/api/v4/system/ping`, { ca });
      expect(peer.subjectAltName).to.include('DNS:localhost').and.include('IP Address:127.0.0.1').and.include('IP Address:0:0:0:0:0:0:0:1');
      expect(peer.keyUsage).to.include('1.3.6.1.5.5.7.3.1');
      expect(peer.ca).to.equal(false);
      const key = fs.statSync(path.join(app.services.config.dataDir, 'keys', 'tls.key'));
      expect(key.mode & 0o777).to.equal(0o600);
    });

    it('sends HSTS and Secure cookies, because the site URL defaults to https', async () => {
      expect(app.services.config.siteUrl).to.match(/^https:\/\/localhost:/);
      const user = await makeUser(app);
      const res = await httpsRequest(`${app.url}/api/v4/users/login`, { ca, method: 'POST', body: { login_id: user.user.username, password: user.password } });
      expect(res.status).to.equal(200);
      expect(res.headers['strict-transport-security']).to.match(/max-age=\d+/);
      const cookies = res.headers['set-cookie'] as string[];
      expect(cookies.find((c) => c.startsWith('MMAUTHTOKEN='))).to.match(/; secure/i);
    });

    it('carries the WebSocket over TLS (wss://)', async () => {
      const user = await makeUser(app);
      const ws = new WebSocket(`${app.url.replace(/^https/, 'wss')}/api/v4/websocket`, { ca, headers: { Authorization: `Bearer ${user.token}` } });
      try {
        const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
          ws.on('message', (data) => {
            const frame = JSON.parse(String(data));
            if (frame.event === 'hello') resolve(frame);
          });
          ws.once('error', reject);
        });
        expect(hello.event).to.equal('hello');
      } finally {
        ws.close();
      }
    });
  });

  describe('the self-signed certificate on later starts', () => {
    let dataDir: string;
    beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-tls-'))));
    afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const config = (siteUrl: string) => ({ tls: 'self-signed' as const, tlsCertFile: undefined, tlsKeyFile: undefined, siteUrl, dataDir });

    it('is kept across restarts', () => {
      const first = loadTls(config('https://chat.example.test'), silent)!;
      const second = loadTls(config('https://chat.example.test'), silent)!;
      expect(second.fingerprint256).to.equal(first.fingerprint256);
      expect(new crypto.X509Certificate(first.cert).checkHost('chat.example.test')).to.equal('chat.example.test');
    });

    it('is replaced when the site URL names another host, or when it nears expiry', () => {
      const first = loadTls(config('https://chat.example.test'), silent)!;
      const moved = loadTls(config('https://[2001:db8::5]:8443'), silent)!;
      expect(moved.fingerprint256).to.not.equal(first.fingerprint256);
      expect(new crypto.X509Certificate(moved.cert).checkIP('2001:db8::5')).to.equal('2001:db8::5');
      const expiring = generateTlsCertificate('chat.example.test', 10);
      fs.writeFileSync(path.join(dataDir, 'keys', 'tls.key'), expiring.key);
      fs.writeFileSync(path.join(dataDir, 'keys', 'tls.crt'), expiring.cert);
      const renewed = loadTls(config('https://chat.example.test'), silent)!;
      expect(Date.parse(new crypto.X509Certificate(renewed.cert).validTo) - Date.now()).to.be.greaterThan(300 * 24 * 3600_000);
    });
  });

  describe('replicas starting together on one shared keys folder', () => {
    let dataDir: string;
    before(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-tls-race-'))));
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('all serve the one certificate the first of them generated, with its own key', async () => {
      const script = `
        import { loadTls } from ${JSON.stringify(path.resolve('server/http/tls.ts'))};
        import { createLogger } from ${JSON.stringify(path.resolve('server/lib/logger.ts'))};
        const tls = loadTls({ tls: 'self-signed', siteUrl: 'https://chat.example.test', dataDir: process.argv[1] }, createLogger('silent'));
        process.stdout.write(JSON.stringify({ fingerprint: tls.fingerprint256, key: tls.key }));`;
      const starts = Array.from({ length: 4 }, () => execFileAsync(process.execPath, ['--input-type=module', '-e', script, dataDir]));
      const results = (await Promise.all(starts)).map((r) => JSON.parse(r.stdout) as { fingerprint: string; key: string });
      expect(new Set(results.map((r) => r.fingerprint)).size).to.equal(1);
      const cert = new crypto.X509Certificate(fs.readFileSync(path.join(dataDir, 'keys', 'tls.crt')));
      expect(cert.fingerprint256).to.equal(results[0].fingerprint);
      for (const r of results) expect(cert.checkPrivateKey(crypto.createPrivateKey(r.key))).to.equal(true);
      expect(fs.existsSync(path.join(dataDir, 'keys', 'tls.lock'))).to.equal(false);
    });
  });

  describe('with a configured certificate', () => {
    let dir: string;
    let app: TestApp;
    let pair: { key: string; cert: string };
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-tls-files-'));
      pair = generateTlsCertificate('chat.example.test');
      fs.writeFileSync(path.join(dir, 'site.crt'), pair.cert);
      fs.writeFileSync(path.join(dir, 'site.key'), pair.key, { mode: 0o600 });
      app = await bootApp({ CUSTODIAN_TLS_CERT_FILE: path.join(dir, 'site.crt'), CUSTODIAN_TLS_KEY_FILE: path.join(dir, 'site.key'), CUSTODIAN_SITE_URL: 'https://chat.example.test' });
    });
    after(async () => {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('serves exactly that certificate, and generates none', async () => {
      const res = await httpsRequest(`${app.url}/api/v4/system/ping`, { ca: pair.cert, servername: 'chat.example.test' });
      expect(res.status).to.equal(200);
      expect(res.peer.fingerprint256).to.equal(new crypto.X509Certificate(pair.cert).fingerprint256);
      expect(fs.existsSync(path.join(app.services.config.dataDir, 'keys', 'tls.crt'))).to.equal(false);
    });

    it('refuses to start with a key that is not the certificate\'s', () => {
      const other = generateTlsCertificate('other.example.test');
      fs.writeFileSync(path.join(dir, 'other.key'), other.key);
      expect(() =>
        loadTls({ tls: 'off', tlsCertFile: path.join(dir, 'site.crt'), tlsKeyFile: path.join(dir, 'other.key'), siteUrl: 'https://chat.example.test', dataDir: dir }, silent),
      ).to.throw(/is not the key of the certificate/);
    });
  });

  describe('configuration', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ CUSTODIAN_DATA_DIR: os.tmpdir(), ...env });
        return [];
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
    };

    it('wants both the certificate and the key', () => {
      expect(problems({ CUSTODIAN_TLS_CERT_FILE: '/etc/ssl/site.crt' })).to.deep.equal(['CUSTODIAN_TLS_CERT_FILE and CUSTODIAN_TLS_KEY_FILE: set both (a certificate and its key) or neither']);
    });

    it('refuses self-signed together with configured files, an http site URL with TLS, and unknown modes', () => {
      expect(problems({ CUSTODIAN_TLS: 'self-signed', CUSTODIAN_TLS_CERT_FILE: '/a.crt', CUSTODIAN_TLS_KEY_FILE: '/a.key' })[0]).to.match(/exclude each other/);
      expect(problems({ CUSTODIAN_TLS: 'self-signed', CUSTODIAN_SITE_URL: 'http://chat.example.test' })[0]).to.match(/must start with https/);
      expect(problems({ CUSTODIAN_TLS: 'on' })[0]).to.match(/^CUSTODIAN_TLS: /);
    });

    it('stays plain HTTP by default', () => {
      const config = loadConfig({ CUSTODIAN_DATA_DIR: os.tmpdir() });
      expect(config.tls).to.equal('off');
      expect(config.siteUrl).to.equal('http://localhost:8065');
    });
  });
});
