import { expect } from 'chai';
import { bootApp, bootSecondNode, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, until } from '../realtime/ws-clients.ts';
import { summarize } from '../../bench/lib/stats.ts';

describe('two nodes on one PostgreSQL', function () {
  this.timeout(60_000);
  let nodeA: TestApp;
  let nodeB: Awaited<ReturnType<typeof bootSecondNode>>;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;

  before(async () => {
    nodeA = await bootApp({ CUSTODIAN_NODE_ID: 'node-1' });
    nodeB = await bootSecondNode(nodeA);
    alice = await makeUser(nodeA);
    bob = await makeUser(nodeA);
    const team = await makeTeam(nodeA.ownerDb, { members: [alice.user, bob.user] });
    channelId = (await makeChannel(nodeA.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] })).id;
  });
  after(async () => {
    await nodeB.close();
    await nodeA.close();
  });

  it('delivers every post made on node B to a socket on node A, in order, with continuous seq', async () => {
    const socket = await connect(nodeA, alice.token);
    try {
      const latencies: number[] = [];
      for (let i = 0; i < 40; i++) {
        const sent = performance.now();
        const res = await request(nodeB, 'POST', '/api/v4/posts', { token: bob.token, body: { channel_id: channelId, message: `cross-node ${i}` } });
        expect(res.status).to.equal(201);
        await until(() => socket.frames.some((f) => f.event === 'posted' && JSON.parse(f.data.post).id === res.json.id), `post ${i} on node A`);
        latencies.push(performance.now() - sent);
      }
      // The 100 ms p99 target is measured by `npm run bench:cluster`, not asserted here: a timed unit
      // test fails on a busy machine without telling anything about the product.
      const stats = summarize(latencies);
      console.log('      node B post → node A posted event (ms):', stats);
      expect(stats.p99, 'a relayed event arrives, not after a reconnect or a timeout').to.be.below(2000);
      const seqs = socket.frames.map((f) => f.seq);
      expect(seqs, 'seq stays continuous').to.deep.equal(seqs.map((_, i) => i));
    } finally {
      socket.ws.close();
    }
  });

  it('serves node A a channel page that includes a post just made on node B (cache invalidated across nodes)', async () => {
    const before = await request(nodeA, 'GET', `/api/v4/channels/${channelId}/posts?per_page=5`, { token: alice.token });
    expect(before.status).to.equal(200);
    const made = await request(nodeB, 'POST', '/api/v4/posts', { token: bob.token, body: { channel_id: channelId, message: 'fresh from B' } });
    const deadline = Date.now() + 2000;
    let order: string[] = [];
    while (Date.now() < deadline) {
      order = (await request(nodeA, 'GET', `/api/v4/channels/${channelId}/posts?per_page=5`, { token: alice.token })).json.order;
      if (order[0] === made.json.id) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(order[0]).to.equal(made.json.id);
  });

  it('stops a session on node A right after it is logged out on node B', async () => {
    const carol = await makeUser(nodeA);
    expect((await request(nodeA, 'GET', '/api/v4/users/me', { token: carol.token })).status).to.equal(200);
    expect((await request(nodeB, 'POST', '/api/v4/users/logout', { token: carol.token })).status).to.equal(200);
    const deadline = Date.now() + 1000;
    let status = 200;
    while (Date.now() < deadline && status === 200) {
      status = (await request(nodeA, 'GET', '/api/v4/users/me', { token: carol.token })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 10));
    }
    expect(status, 'the cached session on node A is dropped within a second, not after its 10 s TTL').to.equal(401);
  });

  it('refuses node A the stats of a private channel right after the user left it on node B (access cache dropped across nodes)', async () => {
    const team = await makeTeam(nodeA.ownerDb, { members: [alice.user, bob.user] });
    const privateId = (await makeChannel(nodeA.ownerDb, team.id, { type: 'P', members: [alice.user, bob.user] })).id;
    const stats = () => request(nodeA, 'GET', `/api/v4/channels/${privateId}/stats`, { token: bob.token });
    expect((await stats()).status).to.equal(200);
    expect((await request(nodeB, 'DELETE', `/api/v4/channels/${privateId}/members/me`, { token: bob.token })).status).to.equal(200);
    const deadline = Date.now() + 1000;
    let status = 200;
    while (Date.now() < deadline && status === 200) {
      status = (await stats()).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 10));
    }
    expect(status, 'refused within a second, not after the cache entry expires').to.equal(403);
  });

  it('shares the login lockout between nodes', async () => {
    const dave = await makeUser(nodeA);
    for (let i = 0; i < 10; i++) {
      const node = i % 2 ? nodeA : nodeB;
      await request(node, 'POST', '/api/v4/users/login', { body: { login_id: dave.user.username, password: 'wrong-password' } });
    }
    const locked = await request(nodeB, 'POST', '/api/v4/users/login', { body: { login_id: dave.user.username, password: dave.password } });
    expect(locked.status).to.equal(429);
  });
});
