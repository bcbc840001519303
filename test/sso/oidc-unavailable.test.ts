import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { captureLogs, freePort } from './helpers.ts';

describe('OIDC provider unreachable: an explained 503, not a bare 500', () => {
  let app: TestApp;
  let issuer: string;
  let logs: ReturnType<typeof captureLogs>;

  before(async function () {
    this.timeout(60_000);
    // A free port nothing listens on: discovery is refused at start and at each sign-in.
    issuer = `http://127.0.0.1:${await freePort()}`;
    app = await bootApp({ CUSTODIAN_OIDC_ENABLE: 'true', CUSTODIAN_OIDC_ISSUER: issuer, CUSTODIAN_OIDC_CLIENT_ID: 'custodian', CUSTODIAN_OIDC_CLIENT_SECRET: 'a-client-secret-for-tests' });
    logs = captureLogs(app);
  });
  after(async () => app?.close());

  it('answers the start of a sign-in with 503 in Mattermost error JSON, logging the reason for the operator', async () => {
    const res = await request(app, 'GET', '/oauth/openid/login');
    expect(res.status, res.text).to.equal(503);
    expect(res.json).to.include({ id: 'api.oauth.provider_unavailable.app_error', status_code: 503 });
    expect(res.text, 'the browser is not told where the provider is').to.not.include(issuer);
    expect(logs.lines.some((l) => l.level === 'error' && /provider cannot be reached/.test(l.msg))).to.equal(true);
  });
});
