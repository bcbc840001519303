import type { Readable, Writable } from 'node:stream';

/**
 * A small POSIX tar (ustar + pax extended headers) writer and reader, for backups: regular files and
 * directories only. Long or non-ASCII paths and sizes of 8 GiB or more go into pax records, so GNU tar
 * and bsdtar read the archives too.
 */

const BLOCK = 512;
const encoder = new TextEncoder();

export interface TarEntryHeader {
  path: string;
  type: 'file' | 'directory';
  size: number;
  mode: number;
  mtime: number;
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function header(path: string, typeflag: string, size: number, mode: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, path);
  writeString(block, 100, 8, octal(mode & 0o7777, 8));
  writeString(block, 108, 8, octal(0, 8));
  writeString(block, 116, 8, octal(0, 8));
  writeString(block, 124, 12, octal(size, 12));
  writeString(block, 136, 12, octal(Math.max(0, Math.floor(mtime)), 12));
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, typeflag);
  writeString(block, 257, 6, 'ustar\0');
  writeString(block, 263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  writeString(block, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return block;
}

/** One pax record: "<length> <key>=<value>\n", where length counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

/** Writes tar entries to `out`, honouring backpressure. Call `finish()` to write the end marker. */
export class TarWriter {
  private readonly out: Writable;
  constructor(out: Writable) {
    this.out = out;
  }

  private async write(chunk: Buffer): Promise<void> {
    if (!this.out.write(chunk)) await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.out.once('error', onError);
      this.out.once('drain', () => {
        this.out.off('error', onError);
        resolve();
      });
    });
  }

  private async writeHeader(path: string, typeflag: string, size: number, mode: number, mtime: number): Promise<void> {
    const pax: string[] = [];
    const ascii = /^[\x20-\x7e]*$/.test(path);
    if (!ascii || Buffer.byteLength(path) > 99) pax.push(paxRecord('path', path));
    if (size >= 8 ** 11) pax.push(paxRecord('size', String(size)));
    if (pax.length) {
      const body = Buffer.from(pax.join(''), 'utf8');
      await this.write(header('PaxHeader', 'x', body.length, 0o644, mtime));
      await this.write(body);
      await this.write(padding(body.length));
    }
    const shortPath = ascii ? path.slice(0, 99) : path.replace(/[^\x20-\x7e]/g, '_').slice(0, 99);
    await this.write(header(shortPath, typeflag, size >= 8 ** 11 ? 0 : size, mode, mtime));
  }

  async directory(path: string, mode = 0o755, mtime = Date.now() / 1000): Promise<void> {
    await this.writeHeader(path.endsWith('/') ? path : `${path}/`, '5', 0, mode, mtime);
  }

  /** Adds a file of exactly `size` bytes read from `content`; a different length is an error. */
  async file(path: string, size: number, content: AsyncIterable<Uint8Array> | Buffer | string, mode = 0o644, mtime = Date.now() / 1000): Promise<void> {
    await this.writeHeader(path, '0', size, mode, mtime);
    let written = 0;
    const chunks = typeof content === 'string' ? [encoder.encode(content)] : Buffer.isBuffer(content) ? [content] : content;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) throw new Error(`${path} grew while it was being archived`);
      await this.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    }
    if (written !== size) throw new Error(`${path} shrank while it was being archived (${written} of ${size} bytes)`);
    await this.write(padding(size));
  }

  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
  }
}

/** Reads exact byte counts from a stream. */
class ByteReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private buffered: Buffer[] = [];
  private length = 0;
  private done = false;

  constructor(input: Readable | AsyncIterable<Buffer>) {
    this.iterator = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.length < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else {
        this.buffered.push(next.value);
        this.length += next.value.length;
      }
    }
  }

  /** Up to `n` bytes (fewer only at the end of the stream). */
  async take(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  async exactly(n: number): Promise<Buffer> {
    const out = await this.take(n);
    if (out.length !== n) throw new Error('the archive is truncated');
    return out;
  }

  /** Yields the next `n` bytes in chunks, without holding them all in memory. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      await this.fill(1);
      const chunk = await this.take(Math.min(left, 1 << 20));
      if (chunk.length === 0) throw new Error('the archive is truncated');
      left -= chunk.length;
      yield chunk;
    }
  }
}

function parseOctal(block: Buffer, offset: number, length: number): number {
  const text = block.subarray(offset, offset + length).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function parseString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number(body.subarray(offset, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new Error('malformed pax header');
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return out;
}

export interface TarEntry extends TarEntryHeader {
  /** The entry's bytes; must be consumed (or `skip()` called) before the next entry is read. */
  content(): AsyncGenerator<Buffer>;
}

/**
 * Iterates over the entries of a tar stream. Paths that are absolute or climb with `..` are refused,
 * so an archive can never write outside the folder it is extracted into.
 */
export async function* readTar(input: Readable | AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(input);
  let pax: Record<string, string> = {};
  while (true) {
    const block = await reader.take(BLOCK);
    if (block.length === 0) throw new Error('the archive is truncated (no end marker)');
    if (block.length !== BLOCK) throw new Error('the archive is truncated');
    if (block.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
    if (sum !== parseOctal(block, 148, 8)) throw new Error('tar header checksum mismatch: the archive is corrupt');
    const typeflag = String.fromCharCode(block[156] || 0x30);
    let size = parseOctal(block, 124, 12);
    if (typeflag === 'x' || typeflag === 'g') {
      const body = await reader.exactly(size);
      await reader.exactly((BLOCK - (size % BLOCK)) % BLOCK);
      if (typeflag === 'x') pax = parsePax(body);
      continue;
    }
    const prefix = parseString(block, 345, 155);
    let path = pax.path ?? (prefix ? `${prefix}/${parseString(block, 0, 100)}` : parseString(block, 0, 100));
    if (pax.size) size = Number(pax.size);
    pax = {};
    if (path.startsWith('/') || path.split('/').includes('..')) throw new Error(`refusing unsafe archive path ${JSON.stringify(path)}`);
    const type = typeflag === '5' ? 'directory' : typeflag === '0' || typeflag === '7' ? 'file' : undefined;
    if (!type) throw new Error(`unsupported tar entry type "${typeflag}" for ${path}`);
    path = path.replace(/\/+$/, '');
    const bodySize = type === 'file' ? size : 0;
    let remaining = bodySize;
    let started = false;
    const entry: TarEntry = {
      path,
      type,
      size: bodySize,
      mode: parseOctal(block, 100, 8),
      mtime: parseOctal(block, 136, 12),
      content: async function* () {
        if (started) throw new Error('entry content already read');
        started = true;
        for await (const chunk of reader.chunks(remaining)) {
          remaining -= chunk.length;
          yield chunk;
        }
      },
    };
    yield entry;
    // Whatever the consumer left unread is skipped.
    for await (const chunk of reader.chunks(remaining)) remaining -= chunk.length;
    await reader.exactly((BLOCK - (bodySize % BLOCK)) % BLOCK);
  }
}
