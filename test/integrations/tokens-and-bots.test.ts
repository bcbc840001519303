import crypto from 'node:crypto';
import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { client4, statusOf } from '../support/client.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

describe('personal access tokens and bots', () => {
  let app: TestApp;
  let admin: TestUser;
  let alice: TestUser;
  let team: { id: string; name: string };
  let channel: { id: string; name: string };
  before(async () => {
    app = await bootApp();
    admin = await makeUser(app, { roles: 'system_user system_admin' });
    alice = await makeUser(app);
    team = await makeTeam(app.ownerDb, { admins: [admin.user], members: [alice.user] });
    channel = await makeChannel(app.ownerDb, team.id, { members: [admin.user, alice.user] });
  });
  after(async () => app.close());

  it('lets an admin create a bot that posts with a personal access token, marked from_bot', async () => {
    const a = client4(app, admin.token);
    const bot = await a.createBot({ username: 'buildbot', display_name: 'Build Bot', description: 'Runs CI' } as never);
    expect(bot).to.include({ username: 'buildbot', display_name: 'Build Bot', description: 'Runs CI', owner_id: admin.user.id, delete_at: 0 });
    const user = await app.ownerDb('users').where({ id: bot.user_id }).first();
    expect(user).to.include({ is_bot: true, password_hash: null, first_name: 'Build Bot' });
    expect((await a.getBot(bot.user_id)).username).to.equal('buildbot');
    expect((await a.getBots()).map((b) => b.user_id)).to.include(bot.user_id);
    expect((await a.patchBot(bot.user_id, { description: 'Runs CI and CD' } as never)).description).to.equal('Runs CI and CD');

    const created = await a.createUserAccessToken(bot.user_id, 'ci');
    expect(created.token).to.match(/^[a-z0-9]{26}$/);
    expect(created).to.include({ user_id: bot.user_id, description: 'ci', is_active: true });
    const stored = await app.ownerDb('user_access_tokens').where({ id: created.id }).first();
    expect(stored.token_hash, 'only a SHA-256 of the token is stored').to.equal(crypto.createHash('sha256').update(created.token!).digest('hex'));
    expect(JSON.stringify(stored)).to.not.include(created.token);
    const listed = await a.getUserAccessTokensForUser(bot.user_id);
    expect(listed.map((t) => t.id)).to.deep.equal([created.id]);
    expect(listed[0], 'the token is shown only once').to.not.have.property('token');
    expect(await a.getUserAccessToken(created.id)).to.not.have.property('token');

    await a.addToTeam(team.id, bot.user_id);
    await a.addToChannel(bot.user_id, channel.id);
    const b = client4(app, created.token);
    expect((await b.getMe()).is_bot).to.equal(true);
    const post = await b.createPost({ channel_id: channel.id, message: 'build #42 passed' } as never);
    expect(post.user_id).to.equal(bot.user_id);
    expect(post.props).to.deep.include({ from_bot: 'true' });
    const human = await client4(app, alice.token).createPost({ channel_id: channel.id, message: 'nice', props: { from_bot: 'true' } } as never);
    expect(human.props, 'people cannot pass as bots').to.not.have.property('from_bot');
  });

  it('stops a revoked token at once, and a disabled token until it is enabled again', async () => {
    const a = client4(app, admin.token);
    const bot = await a.createBot({ username: 'deploybot', display_name: 'Deploy' } as never);
    const first = await a.createUserAccessToken(bot.user_id, 'first');
    const b = client4(app, first.token);
    expect((await b.getMe()).id).to.equal(bot.user_id);
    await a.revokeUserAccessToken(first.id);
    expect(await statusOf(() => b.getMe())).to.equal(401);
    expect(await app.ownerDb('user_access_tokens').where({ id: first.id }).first()).to.equal(undefined);
    expect(await app.ownerDb('sessions').where({ user_id: bot.user_id })).to.have.length(0);

    const second = await a.createUserAccessToken(bot.user_id, 'second');
    const c = client4(app, second.token);
    await c.getMe();
    await a.disableUserAccessToken(second.id);
    expect(await statusOf(() => c.getMe())).to.equal(401);
    expect((await a.getUserAccessToken(second.id)).is_active).to.equal(false);
    await a.enableUserAccessToken(second.id);
    expect((await c.getMe()).id).to.equal(bot.user_id);

    await a.disableBot(bot.user_id);
    expect(await statusOf(() => c.getMe()), 'a disabled bot cannot use its tokens').to.equal(401);
    expect(await statusOf(() => a.getBot(bot.user_id))).to.equal(404);
    expect((await a.getBotsIncludeDeleted()).find((x) => x.user_id === bot.user_id)?.delete_at).to.be.greaterThan(0);
    await a.enableBot(bot.user_id);
    expect((await c.getMe()).id).to.equal(bot.user_id);
  });

  it('lets admins hold tokens of their own and refuses everyone else', async () => {
    const a = client4(app, admin.token);
    const own = await a.createUserAccessToken(admin.user.id, 'scripts');
    expect((await client4(app, own.token).getMe()).id).to.equal(admin.user.id);
    const al = client4(app, alice.token);
    expect(await statusOf(() => al.createUserAccessToken(alice.user.id, 'mine')), 'create_user_access_token is an admin permission').to.equal(403);
    expect(await statusOf(() => al.createBot({ username: 'alicebot' } as never))).to.equal(403);
    expect(await statusOf(() => al.getUserAccessToken(own.id))).to.equal(403);
    expect(await statusOf(() => al.revokeUserAccessToken(own.id))).to.equal(403);
    expect(await statusOf(() => al.getBots())).to.equal(403);
  });

  it('answers bad input with 4xx and Mattermost error JSON', async () => {
    const t = admin.token;
    const missing = await request(app, 'POST', `/api/v4/users/${admin.user.id}/tokens`, { token: t, body: {} });
    expect(missing.status).to.equal(400);
    expect(missing.json).to.include({ id: 'api.context.invalid_param.app_error', status_code: 400 });
    expect((await request(app, 'POST', `/api/v4/users/${admin.user.id}/tokens`, { token: t, raw: '{"description":', headers: { 'Content-Type': 'application/json' } })).status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/users/tokens/revoke', { token: t, body: { token_id: 'nope' } })).status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/users/tokens/revoke', { token: t, body: { token_id: 'a'.repeat(26) } })).status).to.equal(404);
    expect((await request(app, 'GET', `/api/v4/users/tokens/${'b'.repeat(26)}`, { token: t })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/bots/not-an-id', { token: t })).status).to.equal(400);
    expect((await request(app, 'GET', `/api/v4/bots/${alice.user.id}`, { token: t })).status, 'a person is not a bot').to.equal(404);
    expect((await request(app, 'POST', '/api/v4/bots', { token: t, body: { username: 123 } })).status).to.equal(400);
    expect((await request(app, 'POST', '/api/v4/bots', { token: t, body: { username: 'No Spaces' } })).json.id).to.equal('model.bot.is_valid.username.app_error');
    expect((await request(app, 'POST', '/api/v4/bots', { token: t, body: { username: alice.user.username } })).status, 'a taken username').to.equal(409);
    expect((await request(app, 'POST', `/api/v4/users/${'c'.repeat(26)}/tokens`, { token: t, body: { description: 'x' } })).status).to.equal(404);
    expect((await request(app, 'GET', '/api/v4/users/tokens', { token: t })).status, '/users/tokens is not a user id').to.equal(200);
  });
});
