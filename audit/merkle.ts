// Merkle trees as in Certificate Transparency (RFC 6962 §2.1, RFC 9162 §2.1): leaf hash
// SHA-256(0x00 ‖ leaf), node hash SHA-256(0x01 ‖ left ‖ right), the left subtree always the largest
// power of two smaller than the tree. Inclusion proofs are RFC 9162 audit paths.
import crypto from 'node:crypto';

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

// Leaves here are 32-byte chain hashes. Verification hashes twice per record, so the hot path works on
// hex strings over reused buffers: crypto.hash is several times cheaper with a string result than with
// a Buffer one.
const leafInput = Buffer.alloc(33, 0);
const nodeInput = Buffer.alloc(65, 1);

/** Leaf hash of a 32-byte leaf given as hex, as hex. */
export function leafHashHex(leafHex: string): string {
  leafInput.write(leafHex, 1, 32, 'hex');
  return crypto.hash('sha256', leafInput, 'hex');
}

/** Node hash of two 32-byte hashes given as hex, as hex. */
export function nodeHashHex(leftHex: string, rightHex: string): string {
  nodeInput.write(leftHex, 1, 32, 'hex');
  nodeInput.write(rightHex, 33, 32, 'hex');
  return crypto.hash('sha256', nodeInput, 'hex');
}

export function leafHash(leaf: Buffer): Buffer {
  if (leaf.length !== 32) return crypto.createHash('sha256').update(LEAF).update(leaf).digest();
  return Buffer.from(leafHashHex(leaf.toString('hex')), 'hex');
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== 32 || right.length !== 32) return crypto.createHash('sha256').update(NODE).update(left).update(right).digest();
  return Buffer.from(nodeHashHex(left.toString('hex'), right.toString('hex')), 'hex');
}

/** The root of the empty tree: SHA-256 of nothing. */
export const emptyRoot = crypto.createHash('sha256').digest();

/**
 * Builds a root leaf by leaf without holding the leaves: a stack of perfect subtrees, merged as they
 * fill up, folded right to left at the end (which yields the RFC 6962 shape for any size).
 */
export class MerkleBuilder {
  private readonly stack: { size: number; hash: string }[] = [];
  count = 0;

  /** Adds a 32-byte leaf (a chain hash), as a Buffer or as hex. */
  add(leaf: Buffer | string): void {
    let node = { size: 1, hash: typeof leaf === 'string' ? leafHashHex(leaf) : leafHash(leaf).toString('hex') };
    while (this.stack.length && this.stack[this.stack.length - 1].size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHashHex(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.count++;
  }

  rootHex(): string {
    if (!this.stack.length) return emptyRoot.toString('hex');
    let hash = this.stack[this.stack.length - 1].hash;
    for (let i = this.stack.length - 2; i >= 0; i--) hash = nodeHashHex(this.stack[i].hash, hash);
    return hash;
  }

  root(): Buffer {
    return Buffer.from(this.rootHex(), 'hex');
  }
}

/** MTH(D[n]) of RFC 6962. */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  const builder = new MerkleBuilder();
  for (const leaf of leaves) builder.add(leaf);
  return builder.root();
}

/**
 * A whole tree kept level by level, for inclusion proofs. Pairing nodes bottom-up and promoting a
 * level's odd last node unchanged builds exactly the RFC 6962 tree.
 */
export class MerkleTree {
  private readonly levels: Buffer[][];

  constructor(leaves: readonly Buffer[]) {
    const levels = [leaves.map(leafHash)];
    while (levels[levels.length - 1].length > 1) {
      const below = levels[levels.length - 1];
      const above: Buffer[] = [];
      for (let i = 0; i < below.length; i += 2) above.push(i + 1 < below.length ? nodeHash(below[i], below[i + 1]) : below[i]);
      levels.push(above);
    }
    this.levels = levels;
  }

  get size(): number {
    return this.levels[0].length;
  }

  root(): Buffer {
    return this.size === 0 ? emptyRoot : this.levels[this.levels.length - 1][0];
  }

  /** The audit path PATH(m, D[n]) of RFC 6962 §2.1.1 for leaf `index`, from the leaf upwards. */
  proof(index: number): Buffer[] {
    if (index < 0 || index >= this.size) throw new RangeError('leaf index out of range');
    const path: Buffer[] = [];
    let m = index;
    for (let level = 0; level < this.levels.length - 1; level++) {
      const sibling = m ^ 1;
      if (sibling < this.levels[level].length) path.push(this.levels[level][sibling]);
      m >>= 1;
    }
    return path;
  }
}

/** Checks an audit path (RFC 9162 §2.1.3.2): true when `leaf` is leaf `index` of the tree of `size` with `root`. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}
