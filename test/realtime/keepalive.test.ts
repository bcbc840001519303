import { expect } from 'chai';
import type { Knex } from 'knex';
import { WebSocket, WebSocketServer } from 'ws';
import type { SessionRow } from '../../server/auth/sessions.ts';
import { createLogger } from '../../server/lib/logger.ts';
import { EventBus } from '../../server/realtime/events.ts';
import { Hub } from '../../server/realtime/hub.ts';
import type { UserRow } from '../../server/users/presenter.ts';

// Protocol pings keep half-open connections from piling up: a client that stops answering is dropped,
// one that answers stays, and the pings are spread over the interval rather than sent all at once.
describe('WebSocket keepalive pings', () => {
  const PING_INTERVAL_MS = 600;
  let server: WebSocketServer;
  let hub: Hub;
  const clients: WebSocket[] = [];

  before(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((resolve) => server.once('listening', resolve));
    // Nothing in this test reaches the database: sessions are not re-checked within its few seconds.
    hub = new Hub({ db: {} as Knex, logger: createLogger('silent'), events: new EventBus(), sessionPolicy: { lifetimeMs: 3_600_000, idleTimeoutMs: 0 }, settings: { pingIntervalMs: PING_INTERVAL_MS } });
    hub.start();
    let n = 0;
    server.on('connection', (ws) => {
      n++;
      const session = { id: `session${n}`, user_id: `user${n}`, expires_at: Date.now() + 3_600_000 } as SessionRow;
      hub.accept(ws, { session, user: { id: `user${n}` } as UserRow }, undefined);
    });
  });
  after(async () => {
    for (const c of clients) c.terminate();
    await hub.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  async function connect(autoPong: boolean): Promise<{ ws: WebSocket; pings: number[]; closed: Promise<number> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}`, { perMessageDeflate: false, autoPong });
    clients.push(ws);
    const pings: number[] = [];
    ws.on('ping', () => pings.push(Date.now()));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, pings, closed };
  }

  it('drops a client that stops answering pings and keeps one that answers, each pinged once per interval', async () => {
    const silent = await connect(false);
    const answering = await Promise.all(Array.from({ length: 6 }, () => connect(true)));
    const code = await Promise.race([silent.closed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), PING_INTERVAL_MS * 5))]);
    expect(code, 'the silent client is cut off (terminated: 1006)').to.equal(1006);
    await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
    for (const client of answering) {
      expect(client.ws.readyState, 'a client that answers stays connected').to.equal(WebSocket.OPEN);
      expect(client.pings.length, 'pinged about once per interval').to.be.within(2, 6);
    }
    // Spread: the clients did not all get their first ping in the same instant.
    const firstPings = new Set(answering.map((c) => Math.floor(c.pings[0] / (PING_INTERVAL_MS / 30))));
    expect(firstPings.size, 'first pings fall in different slots').to.be.greaterThan(1);
  });
});
