// Merkle roots of checkpoint ranges, computed on a worker thread while the main thread walks the chain:
// verification of a million records hashes each one three times (chain, leaf, node), and two cores
// finish sooner than one. The main thread sends chain hashes in batches; the worker answers the roots.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { MerkleBuilder } from './merkle.ts';

/** Collects the chain hashes of whole checkpoint ranges and yields each range's Merkle root. */
export interface RootCollector {
  begin(checkpoint: number): void;
  add(hash: Buffer): void;
  end(checkpoint: number): void;
  /** Roots of every range begun and ended, by checkpoint number. */
  roots(): Promise<Map<number, Buffer>>;
  close(): Promise<void>;
}

/** Computes roots in this thread (small walks: bundles, tests). */
export class LocalRoots implements RootCollector {
  private builder?: MerkleBuilder;
  private readonly done = new Map<number, Buffer>();
  begin(): void {
    this.builder = new MerkleBuilder();
  }
  add(hash: Buffer): void {
    this.builder?.add(hash);
  }
  end(checkpoint: number): void {
    if (this.builder) this.done.set(checkpoint, this.builder.root());
    this.builder = undefined;
  }
  async roots(): Promise<Map<number, Buffer>> {
    return this.done;
  }
  async close(): Promise<void> {}
}

type Message = { kind: 'begin' | 'end'; checkpoint: number } | { kind: 'hashes'; bytes: ArrayBuffer; length: number } | { kind: 'finish' };

const BATCH = 8192;

/** Computes roots on a worker thread. */
export class WorkerRoots implements RootCollector {
  private readonly worker = new Worker(new URL(import.meta.url), { workerData: { auditMerkleRoots: true } });
  private batch = Buffer.allocUnsafe(BATCH * 32);
  private count = 0;
  private readonly result: Promise<Map<number, Buffer>>;

  constructor() {
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', (roots: [number, Uint8Array][]) => resolve(new Map(roots.map(([n, r]) => [n, Buffer.from(r)]))));
      this.worker.once('error', reject);
    });
    this.result.catch(() => {});
  }

  private flush(): void {
    if (!this.count) return;
    const bytes = this.batch.buffer.slice(this.batch.byteOffset, this.batch.byteOffset + this.count * 32);
    this.worker.postMessage({ kind: 'hashes', bytes, length: this.count } satisfies Message, [bytes as ArrayBuffer]);
    this.batch = Buffer.allocUnsafe(BATCH * 32);
    this.count = 0;
  }

  begin(checkpoint: number): void {
    this.flush();
    this.worker.postMessage({ kind: 'begin', checkpoint } satisfies Message);
  }

  add(hash: Buffer): void {
    hash.copy(this.batch, this.count * 32);
    if (++this.count === BATCH) this.flush();
  }

  end(checkpoint: number): void {
    this.flush();
    this.worker.postMessage({ kind: 'end', checkpoint } satisfies Message);
  }

  async roots(): Promise<Map<number, Buffer>> {
    this.flush();
    this.worker.postMessage({ kind: 'finish' } satisfies Message);
    return this.result;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

if (!isMainThread && parentPort && (workerData as { auditMerkleRoots?: boolean } | null)?.auditMerkleRoots) {
  const port = parentPort;
  const roots: [number, Uint8Array][] = [];
  let builder: MerkleBuilder | undefined;
  port.on('message', (m: Message) => {
    if (m.kind === 'begin') builder = new MerkleBuilder();
    else if (m.kind === 'hashes') {
      const bytes = Buffer.from(m.bytes);
      for (let i = 0; i < m.length; i++) builder?.add(bytes.subarray(i * 32, i * 32 + 32));
    } else if (m.kind === 'end') {
      if (builder) roots.push([m.checkpoint, builder.root()]);
      builder = undefined;
    } else {
      port.postMessage(roots);
    }
  });
}
