import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { postsOf } from './helpers.ts';

describe('incoming webhooks', () => {
  let app: TestApp;
  let lead: TestUser;
  let member: TestUser;
  let team: { id: string; name: string };
  let channel: { id: string; name: string };
  let other: { id: string; name: string };
  let hookId: string;
  const post = (id: string, options: Parameters<typeof request>[3]) => request(app, 'POST', `/hooks/${id}`, options);
  before(async () => {
    app = await bootApp({ CUSTODIAN_MAX_BODY_BYTES: '200000' });
    lead = await makeUser(app, { username: 'lead' });
    member = await makeUser(app, { username: 'member' });
    team = await makeTeam(app.ownerDb, { admins: [lead.user], members: [member.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [lead.user, member.user] });
    other = await makeChannel(app.ownerDb, team.id, { members: [lead.user, member.user] });
  });
  after(async () => app.close());

  it('is managed by those with manage_incoming_webhooks on the team, through Client4', async () => {
    expect(await statusOf(() => client4(app, member.token).createIncomingWebhook({ channel_id: channel.id, display_name: 'x' } as never)), 'a team member without the permission').to.equal(403);
    const l = client4(app, lead.token);
    const hook = await l.createIncomingWebhook({ channel_id: channel.id, display_name: 'CI', description: 'Build results', username: 'ci', icon_url: 'https://ci.example.com/icon.png' } as never);
    expect(hook).to.include({ channel_id: channel.id, team_id: team.id, user_id: lead.user.id, display_name: 'CI', username: 'ci', channel_locked: false });
    hookId = hook.id;
    expect((await l.getIncomingWebhook(hook.id)).description).to.equal('Build results');
    expect((await l.getIncomingWebhooks(team.id)) as { id: string }[]).to.deep.include.members([hook]);
    const updated = await l.updateIncomingWebhook({ ...hook, description: 'Builds and deploys' });
    expect(updated.description).to.equal('Builds and deploys');
    expect(await statusOf(() => client4(app, member.token).getIncomingWebhook(hook.id))).to.equal(403);
    expect(await statusOf(() => client4(app, member.token).getIncomingWebhooks(team.id))).to.equal(403);
  });

  it('posts a Slack-style payload= form and a JSON body as the creator, marked from_webhook', async () => {
    const form = new URLSearchParams({ payload: JSON.stringify({ text: 'Build *passed* <https://ci.example.com/42|#42>', username: 'jenkins' }) }).toString();
    const res = await post(hookId, { raw: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain');
    expect(res.text).to.equal('ok');
    const json = await post(hookId, { body: { text: 'Deploy started', props: { card: 'details', from_bot: 'true' } } });
    expect(json.status).to.equal(200);

    const posts = await postsOf(client4(app, member.token), channel.id, 5);
    const [deploy, build] = posts;
    expect(build.message).to.equal('Build *passed* [#42](https://ci.example.com/42)');
    expect(build.user_id).to.equal(lead.user.id);
    expect(build.props).to.deep.include({ from_webhook: 'true', override_username: 'jenkins', override_icon_url: 'https://ci.example.com/icon.png', webhook_display_name: 'CI' });
    expect(deploy.message).to.equal('Deploy started');
    expect(deploy.props, 'the hook\'s default username').to.deep.include({ from_webhook: 'true', override_username: 'ci', card: 'details' });
    expect(deploy.props, 'a payload cannot claim to be a bot').to.not.have.property('from_bot');
  });

  it('accepts multipart forms, raw newlines in JSON strings, and attachments alone', async () => {
    const boundary = 'XyZ123';
    const multipart = (fields: Record<string, string>) =>
      Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
    const headers = { 'Content-Type': `multipart/form-data; boundary=${boundary}` };
    expect((await post(hookId, { raw: multipart({ payload: JSON.stringify({ text: 'from a multipart payload' }) }), headers })).status).to.equal(200);
    expect((await post(hookId, { raw: multipart({ text: 'from multipart fields', username: 'formbot' }), headers })).status).to.equal(200);
    expect((await post(hookId, { raw: '{"text": "line one\nline two"}', headers: { 'Content-Type': 'application/json' } })).status).to.equal(200);
    const attachments = [{ fallback: 'Build 43 failed', color: '#ff0000', pretext: '<!channel> heads up', text: 'Tests failed', fields: [{ title: 'Failures', value: 3, short: true }] }];
    expect((await post(hookId, { body: { attachments } })).status).to.equal(200);

    const [withAttachment, raw, fields, payload] = await postsOf(client4(app, member.token), channel.id, 4);
    expect(payload.message).to.equal('from a multipart payload');
    expect(fields.message).to.equal('from multipart fields');
    expect(fields.props.override_username).to.equal('formbot');
    expect(raw.message).to.equal('line one\nline two');
    expect(withAttachment.message).to.equal('');
    expect(withAttachment.type).to.equal('slack_attachment');
    expect(withAttachment.props.attachments[0]).to.deep.include({ pretext: '@channel heads up', text: 'Tests failed', color: '#ff0000' });
    expect(withAttachment.props.attachments[0].fields[0].value, 'field values become text').to.equal('3');
  });

  it('posts to another channel, or a direct message, unless the hook is locked to its channel', async () => {
    expect((await post(hookId, { body: { text: 'to the other channel', channel: other.name } })).status).to.equal(200);
    expect((await postsOf(client4(app, member.token), other.id, 1))[0].message).to.equal('to the other channel');
    expect((await post(hookId, { body: { text: 'psst', channel: '@member' } })).status).to.equal(200);
    const dm = await app.ownerDb('channels').where({ type: 'D', name: [lead.user.id, member.user.id].sort().join('__') }).first();
    expect((await postsOf(client4(app, member.token), dm.id, 1))[0]).to.include({ message: 'psst', user_id: lead.user.id });

    const locked = await client4(app, lead.token).createIncomingWebhook({ channel_id: channel.id, channel_locked: true } as never);
    const refused = await post(locked.id, { body: { text: 'escape', channel: other.name } });
    expect(refused.status).to.equal(403);
    expect(refused.json.id).to.equal('web.incoming_webhook.channel_locked.app_error');
    expect((await post(locked.id, { body: { text: 'stay', channel: channel.name } })).status).to.equal(200);
  });

  it('splits a text longer than a post into several posts, as Mattermost does', async () => {
    const text = 'a'.repeat(16383) + 'b'.repeat(16383) + 'c'.repeat(10);
    expect((await post(hookId, { body: { text } })).status).to.equal(200);
    const [third, second, first] = await postsOf(client4(app, member.token), channel.id, 3);
    expect(first.message).to.equal('a'.repeat(16383));
    expect(second.message).to.equal('b'.repeat(16383));
    expect(third.message).to.equal('c'.repeat(10));
    expect(third.props.from_webhook).to.equal('true');
  });

  it('refuses what a creator may no longer do: a channel they cannot post in', async () => {
    const outsider = await makeChannel(app.ownerDb, team.id, { members: [member.user] });
    const res = await post(hookId, { body: { text: 'sneak in', channel: outsider.name } });
    expect(res.status).to.equal(403);
    const privateChannel = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [member.user] });
    expect((await post(hookId, { body: { text: 'sneak in', channel: privateChannel.name } })).json.id).to.equal('web.incoming_webhook.permissions.app_error');
    expect(await statusOf(() => client4(app, lead.token).createIncomingWebhook({ channel_id: privateChannel.id } as never)), 'a hook for a channel its creator cannot read').to.equal(403);
  });

  it('answers bad requests with 4xx and Mattermost error JSON', async () => {
    const unknown = await post('a'.repeat(26), { body: { text: 'hi' } });
    expect(unknown.status).to.equal(400);
    expect(unknown.json).to.include({ id: 'web.incoming_webhook.invalid.app_error', status_code: 400 });
    expect((await post(hookId, { body: { text: '' } })).json.id).to.equal('web.incoming_webhook.text.app_error');
    expect((await post(hookId, { body: {} })).status).to.equal(400);
    const malformed = await post(hookId, { raw: '{"text": ', headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).to.equal(400);
    expect(malformed.json.id).to.equal('model.incoming_hook.parse_data.app_error');
    expect((await post(hookId, { body: { text: 5 } })).json.id, 'wrong types').to.equal('model.incoming_hook.parse_data.app_error');
    expect((await post(hookId, { body: ['text'] })).status).to.equal(400);
    expect((await post(hookId, { raw: 'payload=%7Bnot-json', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })).status).to.equal(400);
    expect((await post(hookId, { raw: '--x\r\n', headers: { 'Content-Type': 'multipart/form-data' } })).status).to.equal(400);
    expect((await post(hookId, { body: { text: 'hi', channel: 'no-such-channel' } })).status).to.equal(404);
    expect((await post(hookId, { body: { text: 'hi', channel: '@nobody-here' } })).status).to.equal(400);
    expect((await post(hookId, { body: { text: 'hi', type: 'system_join_channel' } })).status).to.equal(400);
    expect((await post(hookId, { body: { text: 'x'.repeat(300_000) } })).status, 'the body limit').to.equal(413);
    const mgmt = await request(app, 'POST', '/api/v4/hooks/incoming', { token: lead.token, body: { channel_id: 'nope' } });
    expect(mgmt.status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/hooks/incoming', { token: lead.token, body: { channel_id: 'a'.repeat(26) } })).status).to.equal(404);
    expect((await request(app, 'POST', '/api/v4/hooks/incoming', { token: lead.token, body: { channel_id: channel.id, username: 'Not Valid' } })).status).to.equal(400);
    expect((await request(app, 'PUT', `/api/v4/hooks/incoming/${hookId}`, { token: lead.token, body: { id: 'a'.repeat(26) } })).status).to.equal(400);
    expect((await request(app, 'GET', `/api/v4/hooks/incoming/${'d'.repeat(26)}`, { token: lead.token })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/hooks/incoming', { token: lead.token })).status, 'listing every team needs a system-wide permission').to.equal(403);
    expect((await request(app, 'POST', '/api/v4/hooks/incoming', { body: { channel_id: channel.id } })).status).to.equal(401);
  });

  it('stops working once deleted', async () => {
    await client4(app, lead.token).removeIncomingWebhook(hookId);
    expect((await post(hookId, { body: { text: 'too late' } })).json.id).to.equal('web.incoming_webhook.invalid.app_error');
    expect(await statusOf(() => client4(app, lead.token).getIncomingWebhook(hookId))).to.equal(404);
  });
});
