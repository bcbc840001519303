import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeTeam, makeUser } from '../support/factories.ts';
import { captureLogs } from './helpers.ts';
import { generateSelfSigned, readRedirectRequest, TestIdp, type AssertionOptions } from './saml-idp.ts';

const SITE = 'https://chat.example.test';
const ACS = `${SITE}/login/sso/saml`;
const ENTITY = `${SITE}/login/sso/saml`;

describe('SAML 2.0 service provider', () => {
  let app: TestApp;
  let idp: TestIdp;
  let logs: ReturnType<typeof captureLogs>;
  let metadataDir: string;

  before(async function () {
    this.timeout(60_000);
    idp = new TestIdp();
    metadataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'custodian-idp-'));
    fs.writeFileSync(path.join(metadataDir, 'idp.xml'), idp.metadata());
    app = await bootApp({
      CUSTODIAN_SITE_URL: SITE, CUSTODIAN_SAML_ENABLE: 'true', CUSTODIAN_SAML_IDP_METADATA_FILE: path.join(metadataDir, 'idp.xml'),
      CUSTODIAN_SAML_ADMIN_ATTRIBUTE: 'role=admin',
    });
    logs = captureLogs(app);
  });
  after(async () => {
    await app?.close();
    fs.rmSync(metadataDir, { recursive: true, force: true });
  });
  beforeEach(() => logs.clear());

  /** Starts a sign-in as a browser would; returns the AuthnRequest ID the IdP answers. */
  async function newRequestId(): Promise<string> {
    const res = await fetch(`${app.url}/login/sso/saml?redirect_to=/team/town-square`, { redirect: 'manual' });
    expect(res.status).to.equal(302);
    return readRedirectRequest(res.headers.get('location')!).id;
  }
  async function options(overrides: Partial<AssertionOptions> = {}): Promise<AssertionOptions> {
    return {
      inResponseTo: await newRequestId(), acsUrl: ACS, audience: ENTITY, nameId: 'alice@corp.example',
      attributes: { email: ['alice@corp.example'], username: ['alice'], firstName: ['Alice'], lastName: ['Liddell'], groups: ['saml-staff'] },
      ...overrides,
    };
  }
  async function post(xml: string, relayState = '/team/town-square'): Promise<Response> {
    return fetch(`${app.url}/login/sso/saml`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: relayState }), redirect: 'manual' });
  }
  async function expectRefused(xml: string, reason: RegExp): Promise<void> {
    const before = await app.ownerDb('sessions').count({ n: '*' });
    const res = await post(xml);
    const body = (await res.json()) as { id: string };
    expect(res.status, JSON.stringify(body)).to.equal(401);
    expect(body.id).to.equal('api.user.saml.login_failed.app_error');
    expect(await app.ownerDb('sessions').count({ n: '*' }), 'no session opened').to.deep.equal(before);
    const reasons = logs.refusals();
    expect(reasons, 'the refusal is logged with its reason').to.have.length(1);
    expect(reasons[0]).to.match(reason);
  }

  /** The SP certificate generated at first start, shared by the cluster through PostgreSQL. */
  const spCertificate = async () => (await app.ownerDb('sso_key_pairs').where({ name: 'saml-sp' }).first()).certificate as string;

  it('publishes SP metadata with the generated certificate, kept in PostgreSQL (never in a node\'s data directory)', async () => {
    const res = await request(app, 'GET', '/api/v4/saml/metadata');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/xml');
    expect(res.text).to.include(`entityID="${ENTITY}"`).and.include(`Location="${ACS}"`).and.include('WantAssertionsSigned="true"');
    expect(fs.existsSync(path.join(app.dataDir, 'keys', 'saml-sp.key'))).to.equal(false);
    const cert = (await spCertificate()).replace(/-----[^-]+-----|\s/g, '');
    expect(res.text.replace(/\s/g, '')).to.include(cert);
  });

  it('sends a signed AuthnRequest (RSA-SHA256) and remembers its ID in PostgreSQL', async () => {
    const res = await fetch(`${app.url}/login/sso/saml`, { redirect: 'manual' });
    const location = res.headers.get('location')!;
    expect(location.startsWith('https://idp.test/saml/sso?')).to.equal(true);
    const req = readRedirectRequest(location);
    expect(req.sigAlg).to.equal('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(req.xml).to.include(`AssertionConsumerServiceURL="${ACS}"`).and.include(`Destination="https://idp.test/saml/sso"`);
    const cert = await spCertificate();
    expect(crypto.verify('sha256', Buffer.from(req.signed), cert, Buffer.from(req.signature, 'base64'))).to.equal(true);
    expect(await app.ownerDb('saml_requests').where({ id: req.id }).first()).to.not.equal(undefined);
  });

  it('signs a user in from a signed response and assertion: JIT account, groups, password-login session', async () => {
    const res = await post(idp.validResponse(await options()));
    expect(res.status, await res.clone().text()).to.equal(302);
    expect(res.headers.get('location')).to.equal('/team/town-square');
    expect(res.headers.getSetCookie().map((c) => c.split('=')[0])).to.include.members(['MMAUTHTOKEN', 'MMUSERID', 'MMCSRF']);
    const me = await request(app, 'GET', '/api/v4/users/me', { token: res.headers.get('token')! });
    expect(me.json).to.include({ username: 'alice', email: 'alice@corp.example', first_name: 'Alice', auth_service: 'saml' });
    const group = await app.ownerDb('groups').where({ source: 'saml', remote_id: 'saml-staff' }).first();
    expect(await app.ownerDb('group_members').where({ group_id: group.id, user_id: me.json.id, delete_at: 0 }).first()).to.not.equal(undefined);
    const session = await app.ownerDb('sessions').where({ user_id: me.json.id }).first();
    expect(session.props).to.include({ type: 'saml', saml_name_id: 'alice@corp.example' });
  });

  it('grants system_admin from the configured attribute and takes it away when it is gone', async () => {
    const admin = await post(idp.validResponse(await options({ nameId: 'root@corp.example', attributes: { email: ['root@corp.example'], username: ['rooty'], role: ['admin'] } })));
    expect(admin.status).to.equal(302);
    expect((await app.ownerDb('users').where({ username: 'rooty' }).first()).roles).to.include('system_admin');
    await post(idp.validResponse(await options({ nameId: 'root@corp.example', attributes: { email: ['root@corp.example'], username: ['rooty'] } })));
    expect((await app.ownerDb('users').where({ username: 'rooty' }).first()).roles).to.not.include('system_admin');
  });

  it('accepts an encrypted assertion (AES-256-GCM, RSA-OAEP) for our certificate', async () => {
    const spCert = await spCertificate();
    const res = await post(await idp.encryptedResponse(await options({ nameId: 'enc@corp.example', attributes: { email: ['enc@corp.example'], username: ['encrypted-user'] } }), spCert));
    expect(res.status, await res.clone().text()).to.equal(302);
    expect(await app.ownerDb('users').where({ username: 'encrypted-user', auth_service: 'saml' }).first()).to.not.equal(undefined);
  });

  it('SP-initiated logout ends the session and points at the IdP with a signed LogoutRequest', async () => {
    const res = await post(idp.validResponse(await options()));
    const token = res.headers.get('token')!;
    const out = await request(app, 'POST', '/api/v4/saml/logout', { token });
    expect(out.status).to.equal(200);
    expect(out.json.redirect_url).to.match(/^https:\/\/idp\.test\/saml\/slo\?SAMLRequest=.*&SigAlg=.*rsa-sha256.*&Signature=/);
    expect((await request(app, 'GET', '/api/v4/users/me', { token })).status).to.equal(401);
  });

  describe('attacks, each refused with a logged reason', () => {
    // The parts of a valid signed response the wrapping attacks rearrange.
    async function parts() {
      const o = await options();
      const xml = idp.validResponse(o);
      const assertion = xml.slice(xml.indexOf('<saml:Assertion'), xml.indexOf('</saml:Assertion>') + '</saml:Assertion>'.length);
      const responseSignature = xml.slice(xml.indexOf('<Signature'), xml.indexOf('</Signature>') + '</Signature>'.length);
      const assertionSignature = assertion.slice(assertion.indexOf('<Signature'), assertion.indexOf('</Signature>') + '</Signature>'.length);
      const evil = (a: string) => a.replaceAll('alice@corp.example', 'mallory@corp.example').replaceAll('>alice<', '>mallory<').replace(/ID="[^"]+"/, 'ID="_evil"');
      const unsignedEvil = evil(assertion.replace(assertionSignature, ''));
      return { o, xml, assertion, responseSignature, assertionSignature, evil, unsignedEvil };
    }

    const xsw: [string, () => Promise<string>][] = [
      ['XSW1 (signed response moved into the Signature of a forged one)', async () => {
        const p = await parts();
        const forged = idp.response({ inResponseTo: p.o.inResponseTo, destination: ACS, inner: p.unsignedEvil });
        const sig = p.responseSignature.replace('</Signature>', `<Object>${p.xml}</Object></Signature>`);
        return forged.replace('</saml:Issuer>', `</saml:Issuer>${sig}`);
      }],
      ['XSW2 (signed response as a detached sibling of the forged one\'s signature)', async () => {
        const p = await parts();
        const forged = idp.response({ inResponseTo: p.o.inResponseTo, destination: ACS, inner: p.unsignedEvil });
        return forged.replace('</saml:Issuer>', `</saml:Issuer>${p.xml.replace(/^<\?xml[^>]*>/, '')}${p.responseSignature}`);
      }],
      ['XSW3 (forged assertion before the signed one)', async () => {
        const p = await parts();
        return p.xml.replace(p.assertion, p.unsignedEvil + p.assertion);
      }],
      ['XSW4 (forged assertion wrapping the signed one)', async () => {
        const p = await parts();
        return p.xml.replace(p.assertion, p.unsignedEvil.replace('</saml:Assertion>', `${p.assertion}</saml:Assertion>`));
      }],
      ['XSW5 (forged assertion carrying the original signature, original appended)', async () => {
        const p = await parts();
        const forged = p.assertion.replaceAll('alice@corp.example', 'mallory@corp.example');
        return p.xml.replace(p.assertion, forged).replace('</samlp:Response>', `${p.assertion.replace(p.assertionSignature, '')}</samlp:Response>`);
      }],
      ['XSW6 (original assertion inside the forged one\'s signature)', async () => {
        const p = await parts();
        const forged = p.assertion.replaceAll('alice@corp.example', 'mallory@corp.example')
          .replace('</Signature>', `<Object>${p.assertion.replace(p.assertionSignature, '')}</Object></Signature>`);
        return p.xml.replace(p.assertion, forged);
      }],
      ['XSW7 (original assertion hidden in Extensions)', async () => {
        const p = await parts();
        return p.xml.replace(p.assertion, p.unsignedEvil).replace('<samlp:Status>', `<samlp:Extensions>${p.assertion}</samlp:Extensions><samlp:Status>`);
      }],
      ['XSW8 (original assertion, unsigned, in an Object of the forged one\'s signature)', async () => {
        const p = await parts();
        const forged = p.evil(p.assertion).replace('</Signature>', `<Object>${p.assertion.replace(p.assertionSignature, '')}</Object></Signature>`);
        return p.xml.replace(p.assertion, forged);
      }],
    ];
    for (const [name, build] of xsw) {
      it(`refuses ${name}`, async () => expectRefused(await build(), /wrapping|assertion|signature|id/i));
    }

    it('refuses a comment injected into the NameID (user@corp.com<!---->.evil.com)', async () => {
      const o = await options({ nameId: 'alice@corp.example.evil.test', attributes: { email: ['alice@corp.example.evil.test'], username: ['alice-evil'] } });
      const xml = idp.validResponse(o).replace('>alice@corp.example.evil.test<', '>alice@corp.example<!---->.evil.test<');
      await expectRefused(xml, /NameID contains markup/);
    });

    it('refuses an unsigned assertion in a signed response', async () => {
      const o = await options();
      await expectRefused(idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: idp.assertion(o) }), 'Response'), /assertion is not signed/);
    });

    it('refuses a signed assertion in an unsigned response', async () => {
      const o = await options();
      await expectRefused(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: idp.sign(idp.assertion(o), 'Assertion') }), /response is not signed/);
    });

    it('refuses two assertions, each signed', async () => {
      const o = await options();
      const one = idp.sign(idp.assertion(o), 'Assertion');
      const two = idp.sign(idp.assertion({ ...o, nameId: 'mallory@corp.example' }), 'Assertion');
      await expectRefused(idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: one + two }), 'Response'), /2 assertions/);
    });

    it('refuses an assertion nested in the Advice of a signed assertion', async () => {
      const o = await options();
      const nested = idp.assertion({ ...o, nameId: 'mallory@corp.example' });
      const outer = idp.sign(idp.assertion({ ...o, advice: nested }), 'Assertion');
      await expectRefused(idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: outer }), 'Response'), /assertion/i);
    });

    it("refuses a response re-signed by an attacker who puts their own certificate in KeyInfo", async () => {
      const attacker = generateSelfSigned('attacker.test');
      const o = await options();
      const assertion = idp.sign(idp.assertion({ ...o, nameId: 'mallory@corp.example' }), 'Assertion', { keys: attacker });
      await expectRefused(idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: assertion }), 'Response', { keys: attacker }), /signature/i);
    });

    it('refuses an expired assertion', async () => {
      const past = new Date(Date.now() - 10 * 60_000);
      await expectRefused(idp.validResponse(await options({ notBefore: new Date(Date.now() - 20 * 60_000), notOnOrAfter: past })), /expired/i);
    });

    it('refuses an assertion that is not yet valid (beyond the allowed clock skew)', async () => {
      await expectRefused(idp.validResponse(await options({ notBefore: new Date(Date.now() + 10 * 60_000), notOnOrAfter: new Date(Date.now() + 20 * 60_000) })), /not yet valid/i);
    });

    it('refuses a wrong audience', async () => {
      await expectRefused(idp.validResponse(await options({ audience: 'https://other-sp.test' })), /audience/i);
    });

    it('refuses a wrong destination', async () => {
      const o = await options();
      const xml = idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: 'https://other-sp.test/acs', inner: idp.sign(idp.assertion(o), 'Assertion') }), 'Response');
      await expectRefused(xml, /Destination/);
    });

    it('refuses a wrong recipient', async () => {
      await expectRefused(idp.validResponse(await options({ recipient: 'https://other-sp.test/acs' })), /Recipient/);
    });

    it('refuses an answer to a request we never sent', async () => {
      await expectRefused(idp.validResponse({ ...(await options()), inResponseTo: '_never-issued' }), /InResponseTo/);
    });

    it('refuses a replayed response, and a replayed assertion even if its request id were still known', async () => {
      const o = await options();
      const xml = idp.validResponse(o);
      expect((await post(xml)).status).to.equal(302);
      logs.clear();
      await expectRefused(xml, /InResponseTo/);
      // Defence in depth: with the request id put back, the assertion id cache still refuses it.
      await app.ownerDb('saml_requests').insert({ id: o.inResponseTo, value: new Date().toISOString(), create_at: Date.now(), expires_at: Date.now() + 60_000 });
      logs.clear();
      await expectRefused(xml, /already used \(replay\)/);
    });

    it('refuses SHA-1 signatures and digests', async () => {
      const o = await options();
      const assertion = idp.sign(idp.assertion(o), 'Assertion', { sha1: true });
      await expectRefused(idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: assertion }), 'Response', { sha1: true }), /refused (digest )?algorithm/);
    });

    it('refuses a DOCTYPE (XXE and entity expansion) before parsing', async () => {
      const xml = idp.validResponse(await options());
      await expectRefused(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}`, /DOCTYPE/);
    });

    it('refuses a response from another identity provider', async () => {
      const o = await options({ issuer: 'https://evil-idp.test' });
      const xml = idp.sign(idp.response({ inResponseTo: o.inResponseTo, destination: ACS, inner: idp.sign(idp.assertion(o), 'Assertion'), issuer: 'https://evil-idp.test' }), 'Response');
      await expectRefused(xml, /another identity provider/);
    });

    it('refuses an oversized or non-base64 SAMLResponse without parsing it', async () => {
      const big = await fetch(`${app.url}/login/sso/saml`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: 'A'.repeat(600 * 1024) }), redirect: 'manual' });
      expect(big.status).to.equal(401);
      expect(logs.refusals()[0]).to.match(/too large/);
    });

    it('answers the ACS without SAML configured with a 404, and a JSON body with a 415', async () => {
      const res = await fetch(`${app.url}/login/sso/saml`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
      expect(res.status).to.equal(415);
    });
  });

  it('keeps a linked team membership across sign-ins and a group-constrained one only while in the group', async () => {
    const team = await makeTeam(app.ownerDb);
    const admin = await makeUser(app, { roles: 'system_user system_admin' });
    // First sign-in creates the group; link it to a constrained team and sign in again.
    await post(idp.validResponse(await options({ nameId: 'gina@corp.example', attributes: { email: ['gina@corp.example'], username: ['gina'], groups: ['auditors'] } })));
    const group = await app.ownerDb('groups').where({ source: 'saml', remote_id: 'auditors' }).first();
    expect((await request(app, 'POST', `/api/v4/groups/${group.id}/teams/${team.id}/link`, { token: admin.token, body: {} })).status).to.equal(201);
    expect((await request(app, 'PUT', `/api/v4/groups/syncables/teams/${team.id}/constrained`, { token: admin.token, body: { group_constrained: true } })).status).to.equal(200);
    const gina = await app.ownerDb('users').where({ username: 'gina' }).first();
    expect(Number((await app.ownerDb('team_members').where({ team_id: team.id, user_id: gina.id }).first()).delete_at)).to.equal(0);
    await post(idp.validResponse(await options({ nameId: 'gina@corp.example', attributes: { email: ['gina@corp.example'], username: ['gina'], groups: [] } })));
    expect(Number((await app.ownerDb('team_members').where({ team_id: team.id, user_id: gina.id }).first()).delete_at)).to.be.above(0);
    expect(logs.lines.some((l) => l.obj.event === 'group_sync_removed_from_team' && l.obj.userId === gina.id)).to.equal(true);
  });
});
