import { expect } from 'chai';
import { loadConfig } from '../../server/config/load.ts';
import { metricsAccess } from '../../server/metrics/http.ts';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, until } from '../realtime/ws-clients.ts';

/** One sample line's value, e.g. value(text, 'custodian_x_count{route="/a"}'). */
function sample(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(prefix + ' '));
  return line === undefined ? undefined : Number(line.slice(prefix.length + 1));
}

const count = (text: string, method: string, route: string, code: number) => sample(text, `custodian_http_request_duration_seconds_count{method="${method}",route="${route}",code="${code}"}`);

describe('Metrics: /metrics in Prometheus format', () => {
  const token = 'metrics-token-0123456789abcdef';
  let app: TestApp;
  let alice: TestUser;
  let channelId: string;
  before(async () => {
    app = await bootApp({ CUSTODIAN_METRICS_TOKEN: token });
    alice = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [alice.user] });
    channelId = (await makeChannel(app.ownerDb, team.id, { members: [alice.user] })).id;
  });
  after(() => app.close());

  const scrape = async (headers: Record<string, string> = {}) => request(app, 'GET', '/metrics', { headers });

  it('counts requests per route pattern, not per path, with the right counts and status codes', async () => {
    for (let i = 0; i < 3; i++) expect((await request(app, 'GET', `/api/v4/channels/${channelId}/posts?per_page=5`, { token: alice.token })).status).to.equal(200);
    for (let i = 0; i < 2; i++) expect((await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: channelId, message: `hello ${i}` } })).status).to.equal(201);
    expect((await request(app, 'GET', `/api/v4/users/${'z'.repeat(26)}`, { token: alice.token })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/no/such/route', { token: alice.token })).status).to.equal(404);

    const res = await scrape();
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    expect(count(res.text, 'GET', '/api/v4/channels/:channel_id/posts', 200)).to.equal(3);
    expect(count(res.text, 'POST', '/api/v4/posts', 201)).to.equal(2);
    expect(count(res.text, 'GET', '/api/v4/users/:user_id', 404)).to.equal(1);
    expect(count(res.text, 'GET', 'unmatched', 404)).to.equal(1);
    // Buckets are cumulative and end in +Inf = count.
    expect(sample(res.text, 'custodian_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/v4/posts",code="201"}')).to.equal(2);
    expect(res.text).to.include('# TYPE custodian_http_request_duration_seconds histogram');
    // No raw paths, ids or tokens in any label.
    expect(res.text).not.to.include(channelId);
    expect(res.text).not.to.include(alice.user.id);
    expect(res.text).not.to.include(alice.token);
  });

  it('keeps secrets in URLs out of labels (incoming webhook ids, query tokens)', async () => {
    const hookId = 'h'.repeat(26);
    await request(app, 'POST', `/hooks/${hookId}`, { body: { text: 'x' } });
    await request(app, 'GET', `/api/v4/users/me?access_token=${alice.token}`);
    const res = await scrape();
    expect(res.text).not.to.include(hookId);
    expect(res.text).not.to.include(alice.token);
    expect(count(res.text, 'POST', '/hooks/:hook_id', 404) ?? count(res.text, 'POST', '/hooks/:hook_id', 400)).to.be.greaterThan(0);
    expect(count(res.text, 'GET', '/api/v4/users/me', 200)).to.be.greaterThan(0);
  });

  it('reports WebSocket connections and the lag of delivered events', async () => {
    const socket = await connect(app, alice.token);
    const before = await scrape();
    expect(sample(before.text, 'custodian_websocket_connections{state="open"}')).to.equal(1);
    expect(sample(before.text, 'custodian_websocket_users')).to.equal(1);
    await request(app, 'POST', '/api/v4/posts', { token: alice.token, body: { channel_id: channelId, message: 'over the socket' } });
    await socket.event('posted');
    await app.services.realtime.settled();
    const after = await scrape();
    expect(sample(after.text, 'custodian_websocket_event_lag_seconds_count{event="posted"}')).to.equal(1);
    expect(sample(after.text, 'custodian_websocket_event_frames_total{event="posted"}')).to.equal(1);
    socket.close();
    await until(() => app.services.realtime.stats().open === 0, 'socket closed');
    expect(sample((await scrape()).text, 'custodian_websocket_connections{state="open"}')).to.equal(0);
  });

  it('reports database pool usage and the job duration hook', async () => {
    app.services.metrics.jobDuration.observe({ type: 'message_export', status: 'success' }, 12.5);
    const res = await scrape();
    expect(sample(res.text, 'custodian_db_pool_max')).to.equal(10);
    for (const state of ['used', 'free', 'pending_acquire', 'pending_create']) expect(sample(res.text, `custodian_db_pool_connections{state="${state}"}`)).to.be.a('number');
    expect(sample(res.text, 'custodian_job_duration_seconds_count{type="message_export",status="success"}')).to.equal(1);
    expect(sample(res.text, 'custodian_job_duration_seconds_sum{type="message_export",status="success"}')).to.equal(12.5);
    expect(res.text).to.include('process_cpu_seconds_total');
  });

  it('refuses requests a proxy forwarded unless they carry the token, and a wrong token always', async () => {
    // From loopback, but forwarded by a reverse proxy on the same host: treated as remote.
    const forwarded = await scrape({ 'X-Forwarded-For': '203.0.113.9' });
    expect(forwarded.status).to.equal(401);
    expect(forwarded.text).not.to.include('custodian_');
    expect((await scrape({ Forwarded: 'for=203.0.113.9' })).status).to.equal(401);
    expect((await scrape({ 'X-Forwarded-For': '203.0.113.9', Authorization: `Bearer ${token}` })).status).to.equal(200);
    expect((await scrape({ Authorization: 'Bearer wrong-token-0123456789' })).status).to.equal(401);
    expect((await scrape({ Authorization: `Bearer ${token}` })).status).to.equal(200);
  });

  it('decides access: loopback, token, or refused', () => {
    const t = 'metrics-token-0123456789abcdef';
    expect(metricsAccess({ remoteAddress: '127.0.0.1', headers: {} }, undefined)).to.equal('allow');
    expect(metricsAccess({ remoteAddress: '::1', headers: {} }, undefined)).to.equal('allow');
    expect(metricsAccess({ remoteAddress: '::ffff:127.0.0.1', headers: {} }, t)).to.equal('allow');
    expect(metricsAccess({ remoteAddress: '10.0.0.5', headers: {} }, undefined)).to.equal('forbidden');
    expect(metricsAccess({ remoteAddress: '10.0.0.5', headers: {} }, t)).to.equal('unauthorized');
    expect(metricsAccess({ remoteAddress: '10.0.0.5', headers: { authorization: `Bearer ${t}` } }, t)).to.equal('allow');
    expect(metricsAccess({ remoteAddress: '10.0.0.5', headers: { authorization: `Bearer ${t}x` } }, t)).to.equal('unauthorized');
    // Without a configured token no bearer value opens it, not even an empty-looking one.
    expect(metricsAccess({ remoteAddress: '10.0.0.5', headers: { authorization: 'Bearer undefined' } }, undefined)).to.equal('unauthorized');
    expect(metricsAccess({ remoteAddress: '::ffff:10.0.0.5', headers: {} }, undefined)).to.equal('forbidden');
    expect(metricsAccess({ remoteAddress: '127.0.0.1', headers: { 'x-real-ip': '198.51.100.1' } }, undefined)).to.equal('forbidden');
  });
});

describe('Metrics: settings', () => {
  it('can be turned off, and then /metrics is not served', async () => {
    const app = await bootApp({ CUSTODIAN_METRICS_ENABLED: 'false' });
    try {
      const res = await request(app, 'GET', '/metrics');
      expect(res.status).to.equal(404);
      expect(res.text).not.to.include('custodian_http_request_duration_seconds');
    } finally {
      await app.close();
    }
  });

  it('takes the token from CUSTODIAN_METRICS_TOKEN_FILE and rejects short tokens', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-token-')), 'token');
    fs.writeFileSync(file, 'from-a-file-0123456789\n');
    try {
      expect(loadConfig({ CUSTODIAN_METRICS_TOKEN_FILE: file }).metricsToken).to.equal('from-a-file-0123456789');
      expect(() => loadConfig({ CUSTODIAN_METRICS_TOKEN: 'short' })).to.throw(/CUSTODIAN_METRICS_TOKEN/);
      expect(loadConfig({}).metricsEnabled).to.equal(true);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
