// A worker thread holding WebSocket clients that record when each `posted` event arrives (absolute ms),
// so 1,000 receiving sockets do not queue behind one event loop in the benchmark process.
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { currentThreadId, moveToBatchScheduling } from '../../server/db/batch-scheduling.ts';

// Under SCHED_BATCH, as the load agents run (bench/README): a remote client cannot take the server's
// CPU when a frame reaches it, and a receiver on the same machine would, woken by every frame in the
// middle of a fan-out. Its CPU time is unchanged. The bare ws baseline uses the same receivers.
if (process.platform === 'linux') moveToBatchScheduling(currentThreadId(), { thread: true });

const { url, tokens } = workerData as { url: string; tokens: string[] };
const now = () => performance.timeOrigin + performance.now();
let pending: [string, number][] = [];

async function open(token: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const at = now();
      if (data.includes('"hello"')) return resolve();
      if (!data.includes('"posted"')) return;
      const id = /\\"id\\":\\"([a-z0-9]{26})\\"/.exec(data.toString())?.[1];
      if (id) pending.push([id, at]);
    });
  });
}

let next = 0;
await Promise.all(Array.from({ length: 25 }, async () => {
  while (next < tokens.length) await open(tokens[next++]);
}));
parentPort!.postMessage({ ready: true });
setInterval(() => {
  if (pending.length === 0) return;
  parentPort!.postMessage({ arrivals: pending });
  pending = [];
}, 5);
