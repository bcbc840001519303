import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import { sendFrame, textFrame } from '../../server/realtime/frames.ts';

// Event frames are built by hand (header + shared bytes + seq) and written under ws: a real client
// must read exactly the text that was meant, at every header size, interleaved with ws's own frames.
describe('pre-built WebSocket event frames', () => {
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

  it('arrives intact with 7-bit, 16-bit and 64-bit payload lengths, in order with ws.send frames', async () => {
    // Whole payloads on each side of the 126 and 65,536 boundaries: 44 bytes of JSON around the
    // padding (the é is two bytes), seq 7.
    const payloadLengths = [125, 126, 127, 65_535, 65_536, 65_537, 200_000];
    const expected: string[] = [];
    for (const [i, length] of payloadLengths.entries()) {
      const head = `{"event":"posted","data":{"m":"é${'x'.repeat(length - 44)}"},"seq":`;
      sendFrame(peer, textFrame(Buffer.from(head), 7));
      expected.push(`${head}7}`);
      expect(Buffer.byteLength(expected.at(-1)!)).to.equal(length);
      peer.send(`reply ${i}`);
      expected.push(`reply ${i}`);
    }
    const deadline = Date.now() + 10_000;
    while (received.length < expected.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received).to.deep.equal(expected);
    expect(client.readyState).to.equal(WebSocket.OPEN);
  });
});
