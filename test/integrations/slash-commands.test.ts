import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, settle } from '../realtime/ws-clients.ts';
import { postsOf, startReceiver, type Receiver } from './helpers.ts';

describe('slash commands', () => {
  let app: TestApp;
  let lead: TestUser;
  let member: TestUser;
  let friend: TestUser;
  let team: { id: string; name: string };
  let channel: { id: string; name: string };
  let receiver: Receiver;
  const exec = (token: string, command: string, channelId = channel.id, extra: Record<string, string> = {}) => client4(app, token).executeCommand(command, { channel_id: channelId, team_id: team.id, ...extra } as never);
  before(async () => {
    app = await bootApp({ CUSTODIAN_SITE_URL: 'https://chat.example.com' });
    lead = await makeUser(app, { username: 'cmdlead' });
    member = await makeUser(app, { username: 'cmdmember' });
    friend = await makeUser(app, { username: 'cmdfriend' });
    team = await makeTeam(app.ownerDb, { admins: [lead.user], members: [member.user, friend.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [lead.user, member.user] });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await app.close();
  });

  it('/join and /leave a public channel', async () => {
    const lobby = await makeChannel(app.ownerDb, team.id);
    const joined = await exec(member.token, `/join ~${lobby.name}`);
    expect(joined.goto_location).to.equal(`https://chat.example.com/${team.name}/channels/${lobby.name}`);
    expect(await app.ownerDb('channel_members').where({ channel_id: lobby.id, user_id: member.user.id }).first()).to.not.equal(undefined);
    const left = await exec(member.token, '/leave', lobby.id);
    expect(left.goto_location).to.equal(`https://chat.example.com/${team.name}/channels/town-square`);
    expect(await app.ownerDb('channel_members').where({ channel_id: lobby.id, user_id: member.user.id }).first()).to.equal(undefined);
    const secret = await makeChannel(app.ownerDb, team.id, { type: 'P', members: [lead.user] });
    const refused = await exec(member.token, `/join ~${secret.name}`);
    expect(refused).to.include({ response_type: 'ephemeral', text: 'An error occurred while joining the channel.' });
    expect((await exec(member.token, '/join ~no-such-channel')).response_type).to.equal('ephemeral');
  });

  it('/me posts an action, /shrug and /echo post text, /header changes the header', async () => {
    await exec(member.token, '/me waves');
    await exec(member.token, '/shrug oh well');
    await exec(member.token, '/echo hello there');
    const [echo, shrug, action] = await postsOf(client4(app, member.token), channel.id, 3);
    expect(action).to.include({ message: '*waves*', type: 'me', user_id: member.user.id });
    expect(action.props).to.not.have.property('from_webhook');
    expect(shrug.message).to.equal('oh well ¯\\\\\\_(ツ)\\_/¯');
    expect(echo.message).to.equal('hello there');
    await exec(member.token, '/header Release week');
    expect((await client4(app, member.token).getChannel(channel.id)).header).to.equal('Release week');
    expect((await exec(member.token, '/header')).text).to.equal('Text must be provided with the /header command.');
  });

  it('/msg sends a direct message', async () => {
    const res = await exec(member.token, '/msg @cmdfriend see you at 3');
    const dmName = [member.user.id, friend.user.id].sort().join('__');
    expect(res.goto_location).to.equal(`https://chat.example.com/${team.name}/channels/${dmName}`);
    const dm = await app.ownerDb('channels').where({ name: dmName, type: 'D' }).first();
    expect((await postsOf(client4(app, friend.token), dm.id, 1))[0]).to.include({ message: 'see you at 3', user_id: member.user.id });
    expect((await exec(member.token, '/msg @nobody-at-all hi')).response_type).to.equal('ephemeral');
  });

  it('runs a custom command against its integration: ephemeral answers are not stored, in_channel ones are', async () => {
    receiver.reply = (req) => {
      const text = new URLSearchParams(req.body).get('text');
      if (text === 'secret') return { body: { response_type: 'ephemeral', text: 'only you can see this' } };
      return { body: { response_type: 'in_channel', text: `Sunny in ${text}`, username: 'weatherbot' } };
    };
    const l = client4(app, lead.token);
    const command = await l.addCommand({ team_id: team.id, trigger: 'Weather', method: 'P', url: `${receiver.url}/weather`, display_name: 'Weather', auto_complete: true } as never);
    expect(command).to.include({ trigger: 'weather', creator_id: lead.user.id, team_id: team.id });

    const m = client4(app, member.token);
    const before = await app.ownerDb('posts').where({ channel_id: channel.id }).count({ n: '*' });
    const callerSocket = await connect(app, member.token);
    const otherSocket = await connect(app, lead.token);
    const ephemeral = await m.executeCommand('/weather secret', { channel_id: channel.id, team_id: team.id } as never);
    expect(ephemeral).to.include({ response_type: 'ephemeral', text: 'only you can see this' });
    expect(await app.ownerDb('posts').where({ channel_id: channel.id }).count({ n: '*' }), 'ephemeral answers are not stored').to.deep.equal(before);
    await settle(app, [{ socket: callerSocket, userId: member.user.id }, { socket: otherSocket, userId: lead.user.id }]);
    const shown = callerSocket.frames.find((f) => f.event === 'ephemeral_message');
    expect(JSON.parse(shown?.data.post)).to.include({ message: 'only you can see this', channel_id: channel.id, type: 'system_ephemeral' });
    expect(otherSocket.frames.find((f) => f.event === 'ephemeral_message'), 'shown to the caller only').to.equal(undefined);
    callerSocket.ws.close();
    otherSocket.ws.close();

    const sent = receiver.received.at(-1)!;
    expect(sent.method).to.equal('POST');
    expect(sent.headers.authorization).to.equal(`Token ${command.token}`);
    expect(sent.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    const form = Object.fromEntries(new URLSearchParams(sent.body));
    expect(form).to.include({
      token: command.token, team_id: team.id, team_domain: team.name, channel_id: channel.id, channel_name: channel.name,
      user_id: member.user.id, user_name: 'cmdmember', command: '/weather', text: 'secret',
    });
    expect(form.trigger_id).to.match(/^[a-z0-9]{26}$/);

    const inChannel = await m.executeCommand('/weather Berlin', { channel_id: channel.id, team_id: team.id } as never);
    expect(inChannel).to.include({ response_type: 'in_channel', text: 'Sunny in Berlin' });
    const [post] = await postsOf(m, channel.id, 1);
    expect(post).to.include({ message: 'Sunny in Berlin', user_id: member.user.id });
    expect(post.props).to.deep.include({ from_webhook: 'true', override_username: 'weatherbot' });
  });

  it('lets the integration answer later through response_url, up to five times', async () => {
    receiver.reply = () => ({ body: { response_type: 'ephemeral', text: 'working on it' } });
    await exec(member.token, '/weather later');
    const responseUrl = new URLSearchParams(receiver.received.at(-1)!.body).get('response_url')!;
    expect(responseUrl).to.match(/^https:\/\/chat\.example\.com\/hooks\/commands\/[a-z0-9]{26}$/);
    const path = new URL(responseUrl).pathname;
    const answer = (body: unknown) => request(app, 'POST', path, { body });
    const res = await answer({ response_type: 'in_channel', text: 'Later: rain' });
    expect(res.status).to.equal(200);
    expect(res.text).to.equal('ok');
    const [post] = await postsOf(client4(app, member.token), channel.id, 1);
    expect(post).to.include({ message: 'Later: rain', user_id: member.user.id });
    expect(post.props).to.deep.include({ from_webhook: 'true' });
    for (let i = 0; i < 4; i++) expect((await answer({ text: `update ${i}` })).status).to.equal(200);
    expect((await answer({ text: 'one too many' })).json.id).to.equal('app.command_webhook.try_use.invalid');
    expect((await request(app, 'POST', `/hooks/commands/${'g'.repeat(26)}`, { body: { text: 'x' } })).status).to.equal(404);
    expect((await request(app, 'POST', path, { raw: '{', headers: { 'Content-Type': 'application/json' } })).status).to.equal(400);
  });

  it('calls GET commands with the fields in the query string, and plain-text answers are ephemeral', async () => {
    receiver.reply = () => ({ headers: { 'Content-Type': 'text/plain' }, body: 'plain answer' });
    const l = client4(app, lead.token);
    await l.addCommand({ team_id: team.id, trigger: 'lookup', method: 'G', url: `${receiver.url}/lookup?source=test` } as never);
    const res = await exec(member.token, '/lookup ticket 42');
    expect(res).to.include({ text: 'plain answer', response_type: '' });
    const sent = receiver.received.at(-1)!;
    expect(sent.method).to.equal('GET');
    const query = new URLSearchParams(sent.url.split('?')[1]);
    expect(query.get('source')).to.equal('test');
    expect(query.get('text')).to.equal('ticket 42');
  });

  it('is managed with manage_slash_commands, and lists built-in commands for everyone', async () => {
    const l = client4(app, lead.token);
    const m = client4(app, member.token);
    expect(await statusOf(() => m.addCommand({ team_id: team.id, trigger: 'mine', url: receiver.url } as never)), 'no manage_slash_commands').to.equal(403);
    const command = await l.addCommand({ team_id: team.id, trigger: 'deploy', url: `${receiver.url}/deploy`, auto_complete: false } as never);
    expect((await l.getCustomTeamCommands(team.id)).map((c) => c.trigger)).to.include('deploy');
    expect(await statusOf(() => m.getCustomTeamCommands(team.id))).to.equal(403);
    const forMember = await m.getCommandsList(team.id);
    expect(forMember.map((c) => c.trigger)).to.include.members(['join', 'leave', 'me', 'msg', 'weather']);
    expect(forMember.map((c) => c.trigger), 'not offered in autocomplete').to.not.include('deploy');
    expect(forMember.find((c) => c.trigger === 'weather')?.token, 'tokens stay with managers').to.equal('');
    const edited = await l.editCommand({ ...command, description: 'Ship it' });
    expect(edited.description).to.equal('Ship it');
    const { token } = await l.regenCommandToken(command.id);
    expect(token).to.match(/^[a-z0-9]{26}$/).and.not.equal(command.token);
    // Client4 has no getter for one command; Mattermost's API does.
    expect((await request(app, 'GET', `/api/v4/commands/${command.id}`, { token: lead.token })).json.description).to.equal('Ship it');
    expect((await request(app, 'GET', `/api/v4/commands/${command.id}`, { token: member.token })).status, 'hidden from non-managers').to.equal(404);
    await l.deleteCommand(command.id);
    expect((await request(app, 'GET', `/api/v4/commands/${command.id}`, { token: lead.token })).status).to.equal(404);
    expect(await statusOf(() => exec(member.token, '/deploy now'))).to.equal(404);
  });

  it('answers bad input with 4xx and Mattermost error JSON', async () => {
    const t = member.token;
    const run = (body: unknown) => request(app, 'POST', '/api/v4/commands/execute', { token: t, body });
    const unknown = await run({ channel_id: channel.id, command: '/nosuchcommand' });
    expect(unknown.status).to.equal(404);
    expect(unknown.json.id).to.equal('api.command.execute_command.not_found.app_error');
    expect((await run({ channel_id: channel.id, command: 'hello' })).json.id).to.equal('api.command.execute_command.start.app_error');
    expect((await run({ channel_id: 'nope', command: '/me' })).status).to.equal(400);
    expect((await run({ channel_id: channel.id })).status).to.equal(400);
    expect((await run({ channel_id: channel.id, command: 42 })).status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/commands/execute', { token: t, raw: '{"command"', headers: { 'Content-Type': 'application/json' } })).status).to.equal(400);
    const outsider = await makeChannel(app.ownerDb, team.id, { members: [lead.user] });
    expect((await run({ channel_id: outsider.id, command: '/me hi' })).status, 'commands run where the caller may post').to.equal(403);
    const l = lead.token;
    const add = (body: unknown) => request(app, 'POST', '/api/v4/commands', { token: l, body });
    expect((await add({ team_id: team.id, trigger: 'join', url: receiver.url })).json.id, 'built-in triggers are taken').to.equal('api.command.duplicate_trigger.app_error');
    expect((await add({ team_id: team.id, trigger: 'weather', url: receiver.url })).json.id).to.equal('api.command.duplicate_trigger.app_error');
    expect((await add({ team_id: team.id, trigger: '/slash', url: receiver.url })).status).to.equal(400);
    expect((await add({ team_id: team.id, trigger: 'ok', url: 'not a url' })).status).to.equal(400);
    expect((await add({ team_id: team.id, trigger: 'ok', url: receiver.url, method: 'X' })).status).to.equal(400);
    expect((await request(app, 'GET', '/api/v4/commands', { token: l })).status, 'team_id is required').to.equal(400);
    expect((await request(app, 'PUT', `/api/v4/commands/${'f'.repeat(26)}/regen_token`, { token: l })).status).to.equal(404);
  });

  it('reports an integration that fails as a server-side failure, not the caller\'s', async () => {
    receiver.reply = () => ({ status: 503, body: 'down for maintenance' });
    await client4(app, lead.token).addCommand({ team_id: team.id, trigger: 'flaky', url: `${receiver.url}/flaky` } as never);
    const res = await request(app, 'POST', '/api/v4/commands/execute', { token: member.token, body: { channel_id: channel.id, command: '/flaky' } });
    expect(res.status).to.equal(500);
    expect(res.json.id).to.equal('api.command.execute_command.failed_resp.app_error');
  });
});
