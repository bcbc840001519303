import { expect } from 'chai';
import { bootApp, bootSecondNode, request, type TestApp } from '../support/app.ts';
import { makeChannel, makeTeam, makeUser, type TestUser } from '../support/factories.ts';
import { connect, until } from '../realtime/ws-clients.ts';

describe('event relay between nodes: a node alone relays nothing', function () {
  this.timeout(60_000);
  let nodeA: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;

  before(async () => {
    nodeA = await bootApp({ CUSTODIAN_NODE_ID: 'node-1' });
    alice = await makeUser(nodeA);
    bob = await makeUser(nodeA);
    const team = await makeTeam(nodeA.ownerDb, { members: [alice.user, bob.user] });
    channelId = (await makeChannel(nodeA.ownerDb, team.id, { members: [alice.user, bob.user] })).id;
  });
  after(async () => nodeA.close());

  const relayed = async () => Number((await nodeA.ownerDb('cluster_events').count({ n: '*' }))[0].n);
  const post = (node: { url: string }, user: TestUser, message: string) => request(node, 'POST', '/api/v4/posts', { token: user.token, body: { channel_id: channelId, message } });

  it('writes no relay rows while no other node listens, and relays from the moment a second node starts', async () => {
    const local = await connect(nodeA, alice.token);
    try {
      const alone = await post(nodeA, bob, 'nobody else to tell');
      expect(alone.status).to.equal(201);
      await until(() => local.frames.find((f) => f.event === 'posted'), 'the local socket still hears it');
      await new Promise((r) => setTimeout(r, 100));
      expect(await relayed(), 'relay rows written by a node alone').to.equal(0);

      const nodeB = await bootSecondNode(nodeA);
      try {
        // The first post on A after B started (no waiting for a periodic count) reaches a socket on B.
        const remote = await connect(nodeB, alice.token);
        const first = await post(nodeA, bob, 'now there are two of us');
        await until(() => remote.frames.find((f) => f.event === 'posted' && JSON.parse(f.data.post).id === first.json.id), 'node A post on node B', 5_000);
        const back = await post(nodeB, bob, 'and back');
        await until(() => local.frames.find((f) => f.event === 'posted' && JSON.parse(f.data.post).id === back.json.id), 'node B post on node A', 5_000);
        expect(await relayed()).to.be.greaterThan(0);
        remote.ws.close();
      } finally {
        await nodeB.close();
      }
    } finally {
      local.ws.close();
    }
  });
});
