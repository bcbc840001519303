import { expect } from 'chai';
import { bootApp, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';

type Who = 'member' | 'teammate' | 'outsider' | 'guest' | 'admin';
type Where = 'public' | 'private' | 'dm' | 'guestChannel';

/**
 * The messaging permission matrix: who may read, post in and inspect which kind of channel.
 * teammate = on the team but not in the channel; outsider = another team; guest = a guest account
 * that belongs only to guestChannel (a public channel); admin = system admin (not a member anywhere).
 */
const allowed: Record<Where, Record<'read' | 'post' | 'get', Who[]>> = {
  public: { read: ['member', 'teammate', 'admin'], post: ['member', 'admin'], get: ['member', 'teammate', 'admin'] },
  private: { read: ['member', 'admin'], post: ['member', 'admin'], get: ['member', 'admin'] },
  dm: { read: ['member', 'admin'], post: ['member', 'admin'], get: ['member', 'admin'] },
  guestChannel: { read: ['member', 'teammate', 'guest', 'admin'], post: ['member', 'guest', 'admin'], get: ['member', 'teammate', 'guest', 'admin'] },
};

describe('messaging permission matrix', () => {
  let app: TestApp;
  const users = {} as Record<Who, TestUser>;
  const channels = {} as Record<Where, string>;
  let otherTeamChannel: string;

  before(async () => {
    app = await bootApp();
    users.member = await makeUser(app);
    users.teammate = await makeUser(app);
    users.outsider = await makeUser(app);
    users.guest = await makeUser(app, { roles: 'system_guest' });
    users.admin = await makeUser(app, { roles: 'system_user system_admin' });
    const dmPeer = await makeUser(app);
    const team = await makeTeam(app.ownerDb, { members: [users.member.user, users.teammate.user, users.guest.user, dmPeer.user] });
    const otherTeam = await makeTeam(app.ownerDb, { members: [users.outsider.user] });
    channels.public = (await makeChannel(app.ownerDb, team.id, { type: 'O', members: [users.member.user] })).id;
    channels.private = (await makeChannel(app.ownerDb, team.id, { type: 'P', members: [users.member.user] })).id;
    channels.guestChannel = (await makeChannel(app.ownerDb, team.id, { type: 'O', members: [users.member.user, users.guest.user] })).id;
    otherTeamChannel = (await makeChannel(app.ownerDb, otherTeam.id, { type: 'O', members: [users.outsider.user] })).id;
    const dm = await request(app, 'POST', '/api/v4/channels/direct', { token: users.member.token, body: [users.member.user.id, dmPeer.user.id] });
    channels.dm = dm.json.id;
  });
  after(async () => app.close());

  const operations = {
    read: (who: Who, channelId: string) => request(app, 'GET', `/api/v4/channels/${channelId}/posts`, { token: users[who].token }),
    post: (who: Who, channelId: string) => request(app, 'POST', '/api/v4/posts', { token: users[who].token, body: { channel_id: channelId, message: `hello from ${who}` } }),
    get: (who: Who, channelId: string) => request(app, 'GET', `/api/v4/channels/${channelId}`, { token: users[who].token }),
  };

  for (const where of Object.keys(allowed) as Where[]) {
    for (const op of ['read', 'post', 'get'] as const) {
      for (const who of ['member', 'teammate', 'outsider', 'guest', 'admin'] as Who[]) {
        const expectAllowed = allowed[where][op].includes(who);
        it(`${who} ${expectAllowed ? 'may' : 'may not'} ${op} in a ${where} channel`, async () => {
          const before = await app.ownerDb('posts').where({ channel_id: channels[where] }).count({ n: '*' });
          const res = await operations[op](who, channels[where]);
          if (expectAllowed) {
            expect(res.status, res.text).to.be.within(200, 201);
          } else {
            expect(res.status, res.text).to.equal(403);
            expect(res.json).to.include({ id: 'api.context.permissions.app_error', status_code: 403 });
            expect(res.json.request_id).to.be.a('string').and.not.empty;
            const after = await app.ownerDb('posts').where({ channel_id: channels[where] }).count({ n: '*' });
            expect(after, 'a denied post writes nothing').to.deep.equal(before);
          }
        });
      }
    }
  }

  it('a guest sees only their own channels in the team listing and cannot create channels', async () => {
    const list = await request(app, 'GET', `/api/v4/users/me/channels`, { token: users.guest.token });
    expect(list.json.map((c: { id: string }) => c.id)).to.deep.equal([channels.guestChannel]);
    const create = await request(app, 'POST', '/api/v4/channels', { token: users.guest.token, body: { team_id: (await app.ownerDb('channels').where({ id: channels.public }).first()).team_id, name: 'guestmade', display_name: 'x', type: 'O' } });
    expect(create.status).to.equal(403);
  });

  it('a user of another team can neither read its channels nor list its members', async () => {
    const read = await operations.read('member', otherTeamChannel);
    expect(read.status).to.equal(403);
    const team = await app.ownerDb('channels').where({ id: otherTeamChannel }).first();
    const members = await request(app, 'GET', `/api/v4/teams/${team.team_id}/members`, { token: users.member.token });
    expect(members.status).to.equal(403);
  });

  it('a channel member cannot add an outsider from another team to a private channel', async () => {
    const res = await request(app, 'POST', `/api/v4/channels/${channels.private}/members`, { token: users.member.token, body: { user_id: users.outsider.user.id } });
    expect(res.status).to.equal(403);
    expect(await app.ownerDb('channel_members').where({ channel_id: channels.private, user_id: users.outsider.user.id }).first()).to.equal(undefined);
  });

  it('a member removed from a private channel loses read access at once, cached pages notwithstanding', async () => {
    const team = await app.ownerDb('channels').where({ id: channels.private }).first();
    const leaver = await makeUser(app);
    await app.ownerDb('team_members').insert({ team_id: team.team_id, user_id: leaver.user.id, create_at: Date.now() });
    const add = await request(app, 'POST', `/api/v4/channels/${channels.private}/members`, { token: users.member.token, body: { user_id: leaver.user.id } });
    expect(add.status).to.equal(201);
    expect((await operations.read('member', channels.private)).status).to.equal(200);
    const first = await request(app, 'GET', `/api/v4/channels/${channels.private}/posts`, { token: leaver.token });
    expect(first.status).to.equal(200);
    const removed = await request(app, 'DELETE', `/api/v4/channels/${channels.private}/members/${leaver.user.id}`, { token: users.member.token });
    expect(removed.status).to.equal(200);
    const after = await request(app, 'GET', `/api/v4/channels/${channels.private}/posts`, { token: leaver.token });
    expect(after.status).to.equal(403);
  });

  it('a deactivated user\'s session stops working at once', async () => {
    const victim = await makeUser(app);
    expect((await request(app, 'GET', '/api/v4/users/me', { token: victim.token })).status).to.equal(200);
    const off = await request(app, 'PUT', `/api/v4/users/${victim.user.id}/active`, { token: users.admin.token, body: { active: false } });
    expect(off.status).to.equal(200);
    expect((await request(app, 'GET', '/api/v4/users/me', { token: victim.token })).status).to.equal(401);
  });

  it('a non-member cannot join a private channel by adding themself', async () => {
    const res = await request(app, 'POST', `/api/v4/channels/${channels.private}/members`, { token: users.teammate.token, body: { user_id: users.teammate.user.id } });
    expect(res.status).to.equal(403);
  });
});
