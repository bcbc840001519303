// Merkle roots of checkpoint ranges, computed on a worker thread while the main thread walks the chain:
// verification of a million records hashes each one three times (chain, leaf, node), and two cores
// finish sooner than one. The main thread sends chain hashes in batches; the worker answers the roots.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { MerkleBuilder } from './merkle.ts';

/** Collects the chain hashes of whole checkpoint ranges and yields each range's Merkle root. */
export interface RootCollector {
  begin(checkpoint: number): void;
  /** A chain hash, as hex. */
  add(hashHex: string): void;
  end(checkpoint: number): void;
  /** Roots (hex) of every range begun and ended, by checkpoint number. */
  roots(): Promise<Map<number, string>>;
  close(): Promise<void>;
}

/** Computes roots in this thread (small walks: bundles, tests). */
export class LocalRoots implements RootCollector {
  private builder?: MerkleBuilder;
  private readonly done = new Map<number, string>();
  begin(): void {
    this.builder = new MerkleBuilder();
  }
  add(hashHex: string): void {
    this.builder?.add(hashHex);
  }
  end(checkpoint: number): void {
    if (this.builder) this.done.set(checkpoint, this.builder.rootHex());
    this.builder = undefined;
  }
  async roots(): Promise<Map<number, string>> {
    return this.done;
  }
  async close(): Promise<void> {}
}

type Message = { kind: 'begin' | 'end'; checkpoint: number } | { kind: 'hashes'; hex: string } | { kind: 'finish' };

const BATCH = 8192;

/** Computes roots on a worker thread. */
export class WorkerRoots implements RootCollector {
  private readonly worker = new Worker(new URL(import.meta.url), { workerData: { auditMerkleRoots: true } });
  private batch: string[] = [];
  private readonly result: Promise<Map<number, string>>;

  constructor() {
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', (roots: [number, string][]) => resolve(new Map(roots)));
      this.worker.once('error', reject);
    });
    this.result.catch(() => {});
  }

  private flush(): void {
    if (!this.batch.length) return;
    // One string per batch: a single structured-clone copy.
    this.worker.postMessage({ kind: 'hashes', hex: this.batch.join('') } satisfies Message);
    this.batch = [];
  }

  begin(checkpoint: number): void {
    this.flush();
    this.worker.postMessage({ kind: 'begin', checkpoint } satisfies Message);
  }

  add(hashHex: string): void {
    if (this.batch.push(hashHex) === BATCH) this.flush();
  }

  end(checkpoint: number): void {
    this.flush();
    this.worker.postMessage({ kind: 'end', checkpoint } satisfies Message);
  }

  async roots(): Promise<Map<number, string>> {
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
  const roots: [number, string][] = [];
  let builder: MerkleBuilder | undefined;
  port.on('message', (m: Message) => {
    if (m.kind === 'begin') builder = new MerkleBuilder();
    else if (m.kind === 'hashes') {
      for (let i = 0; i < m.hex.length; i += 64) builder?.add(m.hex.slice(i, i + 64));
    } else if (m.kind === 'end') {
      if (builder) roots.push([m.checkpoint, builder.rootHex()]);
      builder = undefined;
    } else {
      port.postMessage(roots);
    }
  });
}
