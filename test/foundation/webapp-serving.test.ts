import { expect } from 'chai';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureWebapp } from '../../scripts/ensure-webapp.ts';
import { createHttpApp } from '../../server/http/app.ts';
import { webappRoutes } from '../../server/http/webapp.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { TestIdp } from '../sso/saml-idp.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';

describe('webapp serving', () => {
  let app: TestApp;
  let assetPath: string;

  before(async function () {
    this.timeout(120_000);
    ensureWebapp({ quiet: true });
    app = await bootApp();
    const index = await request(app, 'GET', '/');
    assetPath = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)![1];
  });
  after(async () => {
    await app?.close();
  });

  it('serves the app at / under the strict CSP, with no inline script and no caching of index.html', async () => {
    const res = await request(app, 'GET', '/');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    expect(res.headers.get('content-security-policy')).to.include("script-src 'self';");
    expect(res.text).to.match(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
    expect(res.text).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/, 'every script is an external file');
    expect(res.text).not.to.match(/\son\w+=/i, 'no inline event handlers');
  });

  it('answers deep links with the app so its router can show them', async () => {
    const res = await request(app, 'GET', '/acme/channels/town-square');
    expect(res.status).to.equal(200);
    expect(res.text).to.include('<div id="root"></div>');
    const head = await fetch(app.url + '/acme', { method: 'HEAD' });
    expect(head.status).to.equal(200);
  });

  it('serves hashed assets compressed and cached for a year as immutable', async () => {
    const gz = await fetch(app.url + assetPath, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.status).to.equal(200);
    expect(gz.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect(gz.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    expect(gz.headers.get('content-encoding')).to.equal('gzip');
    expect(gz.headers.get('vary')).to.equal('Accept-Encoding');
    const plain = await (await fetch(app.url + assetPath, { headers: { 'Accept-Encoding': 'identity' } })).text();
    expect(await gz.text()).to.equal(plain);
    const br = await fetch(app.url + assetPath, { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(br.headers.get('content-encoding')).to.equal('br');
  });

  it('keeps Mattermost 404 JSON for unknown API routes and missing assets, and refuses path tricks', async () => {
    const api = await request(app, 'GET', '/api/v4/no/such/route');
    expect(api.status).to.equal(404);
    expect(api.json.id).to.equal('api.context.404.app_error');
    expect((await request(app, 'GET', '/api')).status).to.equal(404);
    for (const p of ['/assets/nope-123.js', '/assets/..%2Findex.html', '/assets/%2e%2e%2f%2e%2e%2fpackage.json']) {
      const res = await request(app, 'GET', p);
      expect(res.status, p).to.equal(404);
      expect(res.headers.get('content-type'), p).to.equal('application/json');
    }
  });

  it('tells clients before sign-in which ways to sign in are on', async () => {
    const res = await request(app, 'GET', '/api/v4/config/client?format=old');
    expect(res.status).to.equal(200);
    expect(res.json).to.include({ EnableSignInWithUsername: 'true', EnableSaml: 'false', EnableSignUpWithOpenId: 'false', SiteName: 'Custodian' });
    expect(res.json.MaxFileSize).to.match(/^\d+$/);
    expect((await request(app, 'GET', '/api/v4/config/client')).status).to.equal(400);
  });

  it('turns the single sign-on buttons on with the server’s SSO settings', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-idp-'));
    const metadata = path.join(dir, 'idp.xml');
    fs.writeFileSync(metadata, new TestIdp().metadata());
    const sso = await bootApp({
      CUSTODIAN_SAML_ENABLE: 'true', CUSTODIAN_SAML_IDP_METADATA_FILE: metadata,
      CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_SERVICE: 'gitlab', CUSTODIAN_OIDC_ISSUER: 'https://idp.example', CUSTODIAN_OIDC_CLIENT_ID: 'custodian', CUSTODIAN_OIDC_CLIENT_SECRET: 'secret',
    });
    try {
      const res = await request(sso, 'GET', '/api/v4/config/client?format=old');
      expect(res.json).to.include({ EnableSaml: 'true', EnableSignUpWithGitLab: 'true', EnableSignUpWithOpenId: 'false' });
    } finally {
      await sso.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains how to build the app when webapp/dist is missing', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-nodist-'));
    const koa = createHttpApp({ logger: createLogger('silent'), https: false, apiRouters: [], rootRouters: [webappRoutes({ distDir: empty })] });
    const server = http.createServer(koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(url + '/any/page');
      expect(res.status).to.equal(503);
      expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(await res.text()).to.include('npm run build:webapp');
      expect((await fetch(url + '/api/v4/x')).status).to.equal(404);
    } finally {
      server.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
