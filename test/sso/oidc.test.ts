import crypto from 'node:crypto';
import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { newId } from '../../server/lib/ids.ts';
import { auditRecords, Browser, captureLogs, freePort } from './helpers.ts';
import { TestOidcProvider } from './oidc-provider.ts';

const clientId = 'custodian-test';
const clientSecret = crypto.randomBytes(24).toString('hex');

describe('OpenID Connect sign-in against a real provider (oidc-provider)', () => {
  let app: TestApp;
  let provider: TestOidcProvider;
  let admin: TestUser;
  let logs: ReturnType<typeof captureLogs>;
  let appHost: string;

  before(async function () {
    this.timeout(60_000);
    const port = await freePort();
    appHost = `127.0.0.1:${port}`;
    provider = new TestOidcProvider();
    await provider.start({ clientId, clientSecret, redirectUri: `http://${appHost}/signup/openid/complete` });
    for (const name of ['alice', 'bob', 'carol', 'dave']) {
      provider.accounts.set(`${name}-sub`, { sub: `${name}-sub`, email: `${name}@corp.example`, email_verified: true, preferred_username: name, given_name: name, family_name: 'Tester', groups: name === 'alice' ? ['engineering'] : [] });
    }
    app = await bootApp({
      CUSTODIAN_PORT: String(port), CUSTODIAN_SITE_URL: `http://${appHost}`,
      CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_ISSUER: provider.issuer, CUSTODIAN_OIDC_CLIENT_ID: clientId, CUSTODIAN_OIDC_CLIENT_SECRET: clientSecret,
      CUSTODIAN_OIDC_SCOPES: 'openid profile email groups',
    });
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    logs = captureLogs(app);
  });
  after(async () => {
    await app?.close();
    await provider?.stop();
  });
  beforeEach(() => {
    provider.tamper = undefined;
    logs.clear();
  });

  const isApp = (u: URL) => u.host === appHost;
  /** Runs the browser flow up to the provider's redirect back to us (not followed). */
  async function untilCallback(browser: Browser, account: string): Promise<string> {
    provider.currentAccount = account;
    const { url } = await browser.follow(`http://${appHost}/oauth/openid/login?redirect_to=/welcome`, (u) => isApp(u) && u.pathname.startsWith('/signup/'));
    return url;
  }
  async function signIn(account: string, browser = new Browser()): Promise<Response> {
    const callback = await untilCallback(browser, account);
    return browser.request(callback);
  }

  it('signs a user in with code + PKCE + state + nonce, keyed by issuer and subject, with a password-login session', async () => {
    const browser = new Browser();
    const start = await browser.request(`http://${appHost}/oauth/openid/login`);
    expect(start.status).to.equal(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin).to.equal(provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).to.equal('S256');
    for (const p of ['state', 'nonce', 'code_challenge']) expect(authorize.searchParams.get(p), p).to.be.a('string').with.length.above(20);
    expect(authorize.searchParams.get('redirect_uri')).to.equal(`http://${appHost}/signup/openid/complete`);

    const res = await signIn('bob-sub');
    expect(res.status, await res.clone().text()).to.equal(302);
    expect(res.headers.get('location')).to.equal('/welcome');
    const token = res.headers.get('token')!;
    const cookies = res.headers.getSetCookie().map((c) => c.split('=')[0]);
    expect(cookies).to.include.members(['MMAUTHTOKEN', 'MMUSERID', 'MMCSRF']);
    const me = await request(app, 'GET', '/api/v4/users/me', { token });
    expect(me.status).to.equal(200);
    expect(me.json).to.include({ username: 'bob', email: 'bob@corp.example', auth_service: 'openid' });
    const row = await app.ownerDb('users').where({ id: me.json.id }).first();
    expect(row.auth_data).to.equal(`bob-sub@${provider.issuer}`);
    expect(row.password_hash).to.equal(null);
    const session = await app.ownerDb('sessions').where({ user_id: me.json.id }).first();
    expect(session.props).to.include({ type: 'oidc', oidc_subject: 'bob-sub' });
    expect(logs.lines.some((l) => l.obj.event === 'sso_login' && l.obj.userId === me.json.id), 'sign-in logged').to.equal(true);
    expect((await auditRecords(app, 'sso_login')).some((r) => r.actor.user_id === me.json.id && r.status === 'success'), 'sign-in in the audit log').to.equal(true);
  });

  it('applies the groups claim at sign-in: a linked team is joined before the first sync', async () => {
    const team = await makeTeam(app.ownerDb);
    const groupId = newId();
    await app.ownerDb('groups').insert({ id: groupId, source: 'oidc', remote_id: 'engineering', display_name: 'Engineering', create_at: Date.now(), update_at: Date.now() });
    const link = await request(app, 'POST', `/api/v4/groups/${groupId}/teams/${team.id}/link`, { token: admin.token, body: { auto_add: true } });
    expect(link.status, link.text).to.equal(201);
    const res = await signIn('alice-sub');
    expect(res.status).to.equal(302);
    const user = await app.ownerDb('users').where({ username: 'alice' }).first();
    expect(await app.ownerDb('team_members').where({ team_id: team.id, user_id: user.id, delete_at: 0 }).first()).to.not.equal(undefined);
    expect(await app.ownerDb('group_members').where({ group_id: groupId, user_id: user.id, delete_at: 0 }).first()).to.not.equal(undefined);
    expect(logs.lines.some((l) => l.obj.event === 'group_sync_added_to_team' && l.obj.teamId === team.id), 'group sync audited').to.equal(true);
  });

  const attacks: [string, (t: string) => string, RegExp][] = [
    ['a wrong issuer', (t) => provider.resign(t, (j) => (j.payload.iss = 'http://localhost:1/evil')), /iss/i],
    ['a wrong audience', (t) => provider.resign(t, (j) => (j.payload.aud = 'another-client')), /aud/i],
    ['a bad signature', (t) => t.slice(0, -6) + (t.slice(-6, -5) === 'A' ? 'B' : 'A') + t.slice(-5), /signature/i],
    ['a token signed by another key', (t) => provider.resign(t, () => undefined, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey), /signature/i],
    ['alg none', (t) => {
      const [, payload] = t.split('.');
      return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    }, /alg|signature/i],
    ['a nonce mismatch', (t) => provider.resign(t, (j) => (j.payload.nonce = 'attacker-nonce')), /nonce/i],
    ['several audiences and an azp naming another client', (t) => provider.resign(t, (j) => {
      j.payload.aud = [clientId, 'another-client'];
      j.payload.azp = 'another-client';
    }), /azp/i],
    ['a missing sub', (t) => provider.resign(t, (j) => delete j.payload.sub), /sub/i],
    ['an expired token', (t) => provider.resign(t, (j) => {
      j.payload.iat = Math.floor(Date.now() / 1000) - 7200;
      j.payload.exp = Math.floor(Date.now() / 1000) - 3600;
    }), /exp/i],
  ];
  for (const [what, tamper, reason] of attacks) {
    it(`refuses an ID token with ${what}, logging why and opening no session`, async () => {
      provider.tamper = tamper;
      const before = await app.ownerDb('sessions').count({ n: '*' });
      const res = await signIn('carol-sub');
      expect(res.status).to.equal(401);
      expect(((await res.json()) as { id: string }).id).to.equal('api.user.oauth.login_failed.app_error');
      expect(res.headers.getSetCookie().some((c) => c.startsWith('MMAUTHTOKEN=') && !c.startsWith('MMAUTHTOKEN=;')), 'no session cookie').to.equal(false);
      expect(await app.ownerDb('sessions').count({ n: '*' })).to.deep.equal(before);
      expect(logs.refusals().join('\n')).to.match(reason);
      expect((await auditRecords(app, 'sso_login_refused')).some((r) => r.status === 'fail' && reason.test(r.error.description ?? '')), 'refusal in the audit log').to.equal(true);
    });
  }

  it('refuses a callback whose state was changed (state mismatch)', async () => {
    const callback = new URL(await untilCallback(new Browser(), 'carol-sub'));
    callback.searchParams.set('state', 'forged-state-value');
    const res = await new Browser().request(callback.href);
    expect(res.status).to.equal(401);
    expect(logs.refusals().join()).to.match(/state mismatch/);
  });

  it('refuses a callback finished in another browser than the one that started it (login CSRF)', async () => {
    const callback = await untilCallback(new Browser(), 'carol-sub');
    const res = await new Browser().request(callback);
    expect(res.status).to.equal(401);
    expect(logs.refusals().join()).to.match(/another browser/);
  });

  it('accepts a state once: replaying a completed callback is refused', async () => {
    const browser = new Browser();
    const callback = await untilCallback(browser, 'dave-sub');
    expect((await browser.request(callback)).status).to.equal(302);
    const replay = await browser.request(callback);
    expect(replay.status).to.equal(401);
    expect(logs.refusals().join()).to.match(/already used|state mismatch/);
  });

  it('refuses a deactivated account and an unverified email', async () => {
    await app.ownerDb('users').where({ username: 'dave' }).update({ delete_at: Date.now() });
    expect((await signIn('dave-sub')).status).to.equal(401);
    expect(logs.refusals().join()).to.match(/deactivated/);
    provider.accounts.set('eve-sub', { sub: 'eve-sub', email: 'eve@corp.example', email_verified: false, preferred_username: 'eve' });
    expect((await signIn('eve-sub')).status).to.equal(401);
    expect(logs.refusals().join()).to.match(/not verified/);
  });

  it('refuses an account whose email belongs to a local user instead of taking it over', async () => {
    await makeUser(app, { username: 'frank' });
    provider.accounts.set('frank-sub', { sub: 'frank-sub', email: 'frank@example.com', email_verified: true, preferred_username: 'frank2' });
    expect((await signIn('frank-sub')).status).to.equal(401);
    expect(logs.refusals().join()).to.match(/belongs to another account/);
  });

  it('serves only the configured service name', async () => {
    expect((await fetch(`http://${appHost}/oauth/gitlab/login`, { redirect: 'manual' })).status).to.equal(404);
  });
});
