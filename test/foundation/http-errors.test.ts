import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';

describe('HTTP foundation', () => {
  let app: TestApp;
  before(async () => (app = await bootApp({ CUSTODIAN_MAX_BODY_BYTES: '2048' })));
  after(async () => app.close());

  it('answers ping with database health and exact application/json', async () => {
    const res = await request(app, 'GET', '/api/v4/system/ping?get_server_status=true');
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/json');
    expect(res.json).to.include({ status: 'OK', database_status: 'OK' });
    expect(res.json.version).to.be.a('string');
  });

  it('gives every response a request id, echoing a well-formed inbound one', async () => {
    const generated = await request(app, 'GET', '/api/v4/system/ping');
    expect(generated.headers.get('x-request-id')).to.match(/^[a-z0-9]{26}$/);
    const echoed = await request(app, 'GET', '/api/v4/system/ping', { headers: { 'X-Request-Id': 'trace-abc-12345' } });
    expect(echoed.headers.get('x-request-id')).to.equal('trace-abc-12345');
  });

  it('sets strict security headers', async () => {
    const res = await request(app, 'GET', '/api/v4/system/ping');
    expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(res.headers.get('x-frame-options')).to.equal('DENY');
    expect(res.headers.get('content-security-policy')).to.include("frame-ancestors 'none'");
    expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
  });

  it('answers an unknown route with Mattermost error JSON and a 404', async () => {
    const res = await request(app, 'GET', '/api/v4/no/such/route');
    expect(res.status).to.equal(404);
    expect(res.json).to.have.all.keys('id', 'message', 'detailed_error', 'request_id', 'status_code');
    expect(res.json.status_code).to.equal(404);
    expect(res.json.request_id).to.equal(res.headers.get('x-request-id'));
  });

  it('refuses malformed JSON with a 400 and no partial work', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { raw: '{"login_id": "a", ', headers: { 'Content-Type': 'application/json' } });
    expect(res.status).to.equal(400);
    expect(res.json.id).to.equal('api.context.invalid_body_param.app_error');
  });

  it('refuses an oversized body with a 413', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { body: { login_id: 'x'.repeat(4096), password: 'y' } });
    expect(res.status).to.equal(413);
    expect(res.json.status_code).to.equal(413);
  });

  it('refuses a non-JSON content type with a 415', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { raw: '<login/>', headers: { 'Content-Type': 'application/xml' } });
    expect(res.status).to.equal(415);
  });

  it('refuses invalid UTF-8 with a 400', async () => {
    const res = await request(app, 'POST', '/api/v4/users/login', { raw: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), headers: { 'Content-Type': 'application/json' } });
    expect(res.status).to.equal(400);
    expect(res.json.id).to.equal('api.context.invalid_utf8.app_error');
  });

  it('answers a malformed percent-encoding in the path with a 4xx, not a 500', async () => {
    const res = await request(app, 'GET', '/api/v4/users/%E0%A4%A');
    expect(res.status).to.be.within(400, 499);
    expect(res.json.status_code).to.equal(res.status);
  });
});
