import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionIndex } from '../../server/realtime/connection-index.ts';
import { Connection } from '../../server/realtime/connection.ts';
import type { ServerEvent } from '../../server/realtime/events.ts';
import { defaultHubSettings } from '../../server/realtime/hub.ts';
import type { Members, MembershipCache } from '../../server/realtime/membership.ts';
import { EventRouter } from '../../server/realtime/router.ts';
import { createLogger } from '../../server/lib/logger.ts';

interface Lookup {
  channelId: string;
  resolve: (members: Members) => void;
}

// Membership lookups that wait for the database must not queue behind each other (under load a
// burst of events for uncached channels then waited one query after another, seconds in all), and
// must not let a later event overtake an earlier one on a client's socket either.
describe('WebSocket event routing while membership lookups wait', () => {
  let server: WebSocketServer;
  let client: WebSocket;
  let peer: WebSocket;
  const received: string[] = [];

  before(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((resolve) => server.once('listening', resolve));
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    client = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { perMessageDeflate: false });
    client.on('message', (data) => received.push(data.toString()));
    peer = await accepted;
  });
  after(async () => {
    client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  it('starts every queued lookup at once and still delivers in publish order', async () => {
    const lookups: Lookup[] = [];
    const members = {
      channel: (channelId: string) => new Promise<Members>((resolve) => lookups.push({ channelId, resolve })),
      team: () => Promise.reject(new Error('no team events here')),
    } as unknown as MembershipCache;
    const index = new ConnectionIndex();
    const conn = new Connection('c'.repeat(26), 'alice', 'session', Date.now() + 3_600_000);
    index.add(conn);
    index.attach(conn, peer);
    const router = new EventRouter({ index, members, limits: defaultHubSettings, logger: createLogger('silent'), maxQueued: 100 });
    const posted = (channel: string, message: string): ServerEvent => ({ event: 'posted', data: { channel_id: channel, message }, broadcast: { channel_id: channel } });

    router.enqueue(posted('first-channel', 'one'));
    router.enqueue(posted('second-channel', 'two'));
    router.enqueue(posted('third-channel', 'three'));
    expect(lookups.map((l) => l.channelId), 'lookups under way before any answered').to.deep.equal(['first-channel', 'second-channel', 'third-channel']);

    // The database answers out of order; the client must still see one, two, three with seq 0, 1, 2.
    const alice: Members = { userIds: new Set(['alice']), archived: false, loadedAt: Date.now() };
    lookups[2].resolve(alice);
    lookups[1].resolve(alice);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received, 'nothing may overtake the first event').to.deep.equal([]);
    lookups[0].resolve(alice);
    await router.settled();
    const deadline = Date.now() + 5_000;
    while (received.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const frames = received.map((text) => JSON.parse(text) as { data: { message: string }; seq: number });
    expect(frames.map((f) => [f.data.message, f.seq])).to.deep.equal([['one', 0], ['two', 1], ['three', 2]]);
  });
});
