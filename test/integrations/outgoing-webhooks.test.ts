import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { postsOf, startReceiver, waitFor, type Receiver } from './helpers.ts';

describe('outgoing webhooks', () => {
  let app: TestApp;
  let lead: TestUser;
  let member: TestUser;
  let team: { id: string; name: string };
  let channel: { id: string; name: string };
  let receiver: Receiver;
  before(async () => {
    app = await bootApp();
    lead = await makeUser(app, { username: 'oglead' });
    member = await makeUser(app, { username: 'ogmember' });
    team = await makeTeam(app.ownerDb, { admins: [lead.user], members: [member.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [lead.user, member.user] });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await app.close();
  });

  it('sends a matching post to the callback URL and posts its reply back as the hook creator', async () => {
    receiver.reply = (req) => (req.url === '/ping' ? { body: { text: 'pong <https://status.example.com|status>', username: 'pinger' } } : { status: 200 });
    const l = client4(app, lead.token);
    const hook = await l.createOutgoingWebhook({
      team_id: team.id, channel_id: channel.id, trigger_words: ['ping'], trigger_when: 0, callback_urls: [`${receiver.url}/ping`],
      content_type: 'application/json', display_name: 'Pinger',
    } as never);
    expect(hook).to.include({ team_id: team.id, channel_id: channel.id, creator_id: lead.user.id, content_type: 'application/json' });
    expect(hook.token).to.match(/^[a-z0-9]{26}$/);

    const m = client4(app, member.token);
    const started = Date.now();
    const trigger = await m.createPost({ channel_id: channel.id, message: 'ping the build server' } as never);
    const reply = await waitFor(async () => (await postsOf(m, channel.id, 5)).find((p) => p.message.startsWith('pong')), 5000, 'the hook\'s reply');
    expect(reply.message).to.equal('pong [status](https://status.example.com)');
    expect(reply.user_id).to.equal(lead.user.id);
    expect(reply.root_id).to.equal('');
    expect(reply.props).to.deep.include({ from_webhook: 'true', override_username: 'pinger', webhook_display_name: 'Pinger' });

    const sent = receiver.received.filter((r) => r.url === '/ping');
    expect(sent).to.have.length(1, 'the reply (from_webhook) does not trigger the hook again');
    expect(sent[0].headers['content-type']).to.equal('application/json');
    const payload = JSON.parse(sent[0].body);
    expect(payload).to.deep.include({
      token: hook.token, team_id: team.id, team_domain: team.name, channel_id: channel.id, channel_name: channel.name,
      user_id: member.user.id, user_name: 'ogmember', post_id: trigger.id, text: 'ping the build server', trigger_word: 'ping', file_ids: '',
    });
    expect(payload.timestamp).to.be.within(started - 1000, Date.now());

    await m.createPost({ channel_id: channel.id, message: 'pingpong is not a trigger' } as never);
    await m.createPost({ channel_id: channel.id, message: 'say ping later' } as never);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.filter((r) => r.url === '/ping'), 'trigger_when 0 matches the first word exactly').to.have.length(1);
  });

  it('matches the start of the first word, sends a form, and threads a comment reply', async () => {
    receiver.reply = (req) => (req.url === '/deploy' ? { body: { text: 'deploying', response_type: 'comment' } } : { status: 200 });
    const l = client4(app, lead.token);
    // A team-wide hook (no channel) with trigger_when 1 and the default form content type.
    await l.createOutgoingWebhook({ team_id: team.id, trigger_words: ['deploy'], trigger_when: 1, callback_urls: [`${receiver.url}/deploy`] } as never);
    const m = client4(app, member.token);
    const trigger = await m.createPost({ channel_id: channel.id, message: 'deployment of 2.0 please' } as never);
    const reply = await waitFor(async () => (await postsOf(m, channel.id, 5)).find((p) => p.message === 'deploying'), 5000, 'the comment');
    expect(reply.root_id).to.equal(trigger.id);
    const sent = receiver.received.find((r) => r.url === '/deploy')!;
    expect(sent.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    const form = new URLSearchParams(sent.body);
    expect(form.get('trigger_word')).to.equal('deploy');
    expect(form.get('text')).to.equal('deployment of 2.0 please');
    expect(Number(form.get('timestamp')), 'forms carry seconds').to.equal(Math.floor(trigger.create_at / 1000));
  });

  it('never makes the poster wait, and survives integrations that fail', async () => {
    receiver.reply = (req) => (req.url === '/slow' ? { delayMs: 1500, body: { text: 'slow answer' } } : { status: 500, body: 'boom' });
    const l = client4(app, lead.token);
    await l.createOutgoingWebhook({ team_id: team.id, channel_id: channel.id, trigger_words: ['slow'], callback_urls: [`${receiver.url}/slow`] } as never);
    await l.createOutgoingWebhook({ team_id: team.id, channel_id: channel.id, trigger_words: ['broken'], callback_urls: [`${receiver.url}/broken`, 'http://127.0.0.1:9/closed'] } as never);
    const m = client4(app, member.token);
    const started = Date.now();
    await m.createPost({ channel_id: channel.id, message: 'slow please' } as never);
    expect(Date.now() - started, 'the post is answered before the integration').to.be.below(1000);
    await m.createPost({ channel_id: channel.id, message: 'broken please' } as never);
    await waitFor(async () => (await postsOf(m, channel.id, 5)).find((p) => p.message === 'slow answer'), 5000, 'the slow answer');
    expect(receiver.received.filter((r) => r.url === '/broken')).to.have.length(1);
  });

  it('ignores private channels', async () => {
    const before = receiver.received.length;
    const secret = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [lead.user, member.user] });
    await client4(app, member.token).createPost({ channel_id: secret.id, message: 'deploy the secret thing' } as never);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received.length).to.equal(before);
  });

  it('is managed with manage_outgoing_webhooks: list, update, regenerate the token, delete', async () => {
    const l = client4(app, lead.token);
    const hook = await l.createOutgoingWebhook({ team_id: team.id, channel_id: channel.id, trigger_words: ['status'], callback_urls: [`${receiver.url}/status`] } as never);
    expect((await l.getOutgoingWebhooks('', team.id)).map((h) => h.id)).to.include(hook.id);
    expect((await l.getOutgoingWebhooks(channel.id)).map((h) => h.id)).to.include(hook.id);
    // Each change applies to the very next post (the team's hooks are cached between posts).
    const m = client4(app, member.token);
    const statusCalls = () => receiver.received.filter((r) => r.url === '/status').map((r) => Object.fromEntries(new URLSearchParams(r.body)) as { token: string; trigger_word: string });
    const postAndSettle = async (message: string, calls: number, waitMs = 3000) => {
      await m.createPost({ channel_id: channel.id, message } as never);
      await waitFor(async () => (statusCalls().length >= calls ? true : undefined), waitMs, `call ${calls}`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    };
    await postAndSettle('status please', 1);
    await postAndSettle('health please', 1);
    expect(statusCalls().map((c) => c.trigger_word), 'health is not a trigger yet').to.deep.equal(['status']);
    const updated = await l.updateOutgoingWebhook({ ...hook, trigger_words: ['status', 'health'], display_name: 'Status' });
    expect(updated.trigger_words).to.deep.equal(['status', 'health']);
    await postAndSettle('health please', 2);
    expect(statusCalls().map((c) => c.trigger_word), 'the update applies at once').to.deep.equal(['status', 'health']);
    const regenerated = await l.regenOutgoingHookToken(hook.id);
    expect(regenerated.token).to.match(/^[a-z0-9]{26}$/).and.not.equal(hook.token);
    await postAndSettle('status again', 3);
    expect(statusCalls().at(-1)?.token, 'the new token is sent at once').to.equal(regenerated.token);
    await l.removeOutgoingWebhook(hook.id);
    expect(await statusOf(() => l.getOutgoingWebhook(hook.id))).to.equal(404);
    await postAndSettle('status after delete', 4, 500);
    expect(statusCalls(), 'a deleted hook stops at once').to.have.length(3);

    expect(await statusOf(() => m.createOutgoingWebhook({ team_id: team.id, channel_id: channel.id, trigger_words: ['x'], callback_urls: [receiver.url] } as never))).to.equal(403);
    expect(await statusOf(() => m.getOutgoingWebhooks('', team.id))).to.equal(403);
  });

  it('answers bad input with 4xx and Mattermost error JSON', async () => {
    const t = lead.token;
    const create = (body: unknown) => request(app, 'POST', '/api/v4/hooks/outgoing', { token: t, body });
    const noTriggers = await create({ team_id: team.id, callback_urls: [receiver.url] });
    expect(noTriggers.status).to.equal(400);
    expect(noTriggers.json.id).to.equal('api.webhook.create_outgoing.triggers.app_error');
    expect((await create({ team_id: team.id, trigger_words: ['a'], callback_urls: ['ftp://example.com'] })).status).to.equal(400);
    expect((await create({ team_id: team.id, trigger_words: ['a'], callback_urls: [] })).status).to.equal(400);
    expect((await create({ team_id: team.id, trigger_words: 'a', callback_urls: [receiver.url] })).status).to.equal(400);
    expect((await create({ team_id: team.id, trigger_words: ['a'], trigger_when: 2, callback_urls: [receiver.url] })).status).to.equal(400);
    expect((await create({ team_id: 'a'.repeat(26), trigger_words: ['a'], callback_urls: [receiver.url] })).status).to.equal(404);
    const secret = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [lead.user] });
    expect((await create({ team_id: team.id, channel_id: secret.id, callback_urls: [receiver.url] })).status, 'only public channels').to.equal(403);
    await create({ team_id: team.id, channel_id: channel.id, trigger_words: ['dup'], callback_urls: [`${receiver.url}/dup`] });
    expect((await create({ team_id: team.id, channel_id: channel.id, trigger_words: ['dup'], callback_urls: [`${receiver.url}/dup`] })).json.id).to.equal('api.webhook.create_outgoing.intersect.app_error');
    expect((await request(app, 'POST', '/api/v4/hooks/outgoing', { token: t, raw: '{', headers: { 'Content-Type': 'application/json' } })).status).to.equal(400);
    expect((await request(app, 'GET', `/api/v4/hooks/outgoing/${'e'.repeat(26)}`, { token: t })).status).to.equal(404);
    expect((await request(app, 'POST', `/api/v4/hooks/outgoing/${'e'.repeat(26)}/regen_token`, { token: t })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/hooks/outgoing?team_id=bad', { token: t })).status).to.equal(400);
  });
});
