import crypto from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import type { TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import { centralEntry, dosDateTime, zip64End } from './zip-layout.ts';

/** One file inside a zip, as the manifest lists it. */
export interface ZipEntryRecord {
  name: string;
  size: number;
  sha256: string;
}

/** The written zip: its size and hashes (the CRC-32 lets a bundle store it without reading it again). */
export interface WrittenZip {
  size: number;
  sha256: string;
  crc32: number;
}

/** Bytes an entry gathers before they go to the compressor: few hand-offs, bounded memory. */
const CHUNK_BYTES = 256 * 1024;
/** Chunks queued at the compressor (on libuv's thread pool) while the next ones are produced. */
const COMPRESSOR_QUEUE_BYTES = 4 * CHUNK_BYTES;
/** Chunks kept for reuse: as many as the compressor's queue holds, and the one being filled. */
const SPARE_CHUNKS = COMPRESSOR_QUEUE_BYTES / CHUNK_BYTES + 1;
const GZIP_HEADER_BYTES = 10;
const GZIP_TRAILER_BYTES = 8;

/**
 * One entry being written: text and bytes are appended synchronously into a chunk, and a full chunk
 * goes to a gzip stream on the thread pool. gzip rather than raw deflate because its trailer carries
 * the CRC-32 the zip needs, computed off the main thread; the header and trailer are cut off here.
 * The caller awaits `drain()` when `backlogged`, which keeps memory bounded whatever the entry's size.
 * With `inline`, chunks are deflated (and their CRC-32 computed) on the calling thread instead: the
 * export's worker thread runs at a lower priority than the API, libuv's pool threads do not.
 */
export class ZipEntryWriter {
  readonly name: string;
  private readonly gzip: zlib.Gzip | undefined;
  private readonly level: number;
  private readonly emitted: (bytes: Buffer) => void;
  private inlineCrc = 0;
  private inlineCompressed = 0;
  private readonly hash = crypto.createHash('sha256');
  private readonly ended: Promise<{ crc32: number; compressed: number }>;
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly spare: Buffer[] = [];
  private used = 0;
  private size = 0;
  private failure: Error | undefined;

  constructor(name: string, level: number, emit: (bytes: Buffer) => void, inline = false) {
    this.name = name;
    this.level = level;
    this.emitted = emit;
    if (inline) {
      this.ended = Promise.resolve({ crc32: 0, compressed: 0 });
      return;
    }
    // zlib streams hand their options to the Transform underneath, so the queue size applies.
    const options: zlib.ZlibOptions & TransformOptions = { level, chunkSize: 64 * 1024, writableHighWaterMark: COMPRESSOR_QUEUE_BYTES };
    const gzip = zlib.createGzip(options);
    this.gzip = gzip;
    let skip = GZIP_HEADER_BYTES;
    let held = Buffer.alloc(0);
    let compressed = 0;
    gzip.on('data', (out: Buffer) => {
      let data = out;
      if (skip > 0) {
        const cut = Math.min(skip, data.length);
        skip -= cut;
        data = data.subarray(cut);
      }
      // The last 8 bytes seen so far might be the trailer: hold them back until the next output.
      const all = held.length ? Buffer.concat([held, data]) : data;
      const keep = Math.min(GZIP_TRAILER_BYTES, all.length);
      held = Buffer.from(all.subarray(all.length - keep));
      const body = all.subarray(0, all.length - keep);
      if (body.length) {
        compressed += body.length;
        emit(body);
      }
    });
    this.ended = new Promise((resolve, reject) => {
      gzip.once('error', (err) => {
        this.failure = err;
        reject(err);
      });
      gzip.once('end', () => resolve({ crc32: held.readUInt32LE(0), compressed }));
    });
    this.ended.catch(() => undefined);
  }

  /** Appends text as UTF-8. */
  write(text: string): void {
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit.
    if (text.length * 3 > this.chunk.length - this.used) {
      this.pass();
      if (text.length * 3 > CHUNK_BYTES) {
        this.send(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.used += this.chunk.write(text, this.used, 'utf8');
  }

  /** Appends bytes (copied: the caller may reuse them). */
  writeBytes(bytes: Buffer): void {
    this.writeRange(bytes, 0, bytes.length);
  }

  /** Appends `source[start, end)` (copied, with no view of it made). */
  writeRange(source: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length > this.chunk.length - this.used) {
      this.pass();
      if (length > CHUNK_BYTES) {
        this.send(Buffer.from(source.subarray(start, end)));
        return;
      }
    }
    source.copy(this.chunk, this.used, start, end);
    this.used += length;
  }

  /** True when the compressor's queue is full: await `drain()` before writing much more. */
  get backlogged(): boolean {
    if (this.failure) return true;
    return this.gzip?.writableNeedDrain ?? false;
  }

  async drain(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.gzip?.writableNeedDrain) return;
    await Promise.race([once(this.gzip, 'drain'), this.ended]);
    if (this.failure) throw this.failure;
  }

  /**
   * Hands the gathered chunk to the compressor and starts a new one, reusing a chunk the compressor
   * is done with: fresh 256 KiB buffers for every chunk would leave garbage the heap grows for.
   */
  private pass(): void {
    if (this.used === 0) return;
    const full = this.chunk;
    const length = this.used;
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.send(full.subarray(0, length), () => {
      if (this.spare.length < SPARE_CHUNKS) this.spare.push(full);
    });
  }

  private send(bytes: Buffer, consumed?: () => void): void {
    this.size += bytes.length;
    this.hash.update(bytes);
    if (this.gzip) {
      this.gzip.write(bytes, consumed);
      return;
    }
    // A sync flush ends each chunk's deflate stream on a byte boundary, unfinished: the chunks'
    // outputs concatenate into one deflate stream (each with a fresh window: no measurable loss at 256 KiB).
    this.inlineCrc = zlib.crc32(bytes, this.inlineCrc);
    this.emitCompressed(zlib.deflateRawSync(bytes, { level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    consumed?.();
  }

  private emitCompressed(bytes: Buffer): void {
    this.inlineCompressed += bytes.length;
    this.emitted(bytes);
  }

  /** Ends the entry: everything compressed and emitted; its size, SHA-256 and CRC-32. */
  async close(): Promise<{ record: ZipEntryRecord; crc32: number; compressed: number }> {
    this.pass();
    if (!this.gzip) {
      // The final block (empty) ends the deflate stream.
      this.emitCompressed(zlib.deflateRawSync(Buffer.alloc(0), { level: this.level }));
      return { record: { name: this.name, size: this.size, sha256: this.hash.digest('hex') }, crc32: this.inlineCrc >>> 0, compressed: this.inlineCompressed };
    }
    this.gzip.end();
    const { crc32, compressed } = await this.ended;
    return { record: { name: this.name, size: this.size, sha256: this.hash.digest('hex') }, crc32, compressed };
  }

  abort(): void {
    this.gzip?.destroy();
  }
}

/**
 * A zip written to a file as a stream (bounded memory whatever its size), recording the size and
 * SHA-256 of every entry as it passes, and the size, SHA-256 and CRC-32 of the zip file itself.
 * Entries are written one after another (deflate, sizes in data descriptors, ZIP64 central
 * directory); times are fixed so the same content gives the same bytes.
 */
export class ZipWriter {
  readonly entries: ZipEntryRecord[] = [];
  private readonly out: fs.WriteStream;
  private readonly hash = crypto.createHash('sha256');
  private readonly level: number;
  private readonly inline: boolean;
  private readonly time: number;
  private readonly date: number;
  private readonly central: Buffer[] = [];
  private readonly closed: Promise<void>;
  private offset = 0;
  private crc = 0;
  private current: ZipEntryWriter | undefined;
  private failure: Error | undefined;

  /** `compressInline`: deflate on the calling thread (see ZipEntryWriter), not on libuv's thread pool. */
  constructor(file: string, options: { date: Date; level?: number; compressInline?: boolean }) {
    ({ time: this.time, date: this.date } = dosDateTime(options.date.getTime()));
    // Level 1: deflate is most of this process's CPU, and chat text shrinks nearly as much as at the
    // default level 6: a 3.1 MB posts.csv batch took 35 ms of CPU to 742 KB at level 1, 61 ms to 689 KB
    // at level 6 (7 % smaller for 75 % more CPU).
    this.level = options.level ?? 1;
    this.inline = options.compressInline ?? false;
    this.out = fs.createWriteStream(file, { flags: 'w', mode: 0o640, flush: true, highWaterMark: 1024 * 1024 });
    this.closed = new Promise((resolve, reject) => {
      this.out.once('error', (err) => {
        this.failure = err;
        reject(err);
      });
      this.out.once('close', () => resolve());
    });
    this.closed.catch(() => undefined);
  }

  private emit(bytes: Buffer): void {
    this.offset += bytes.length;
    this.hash.update(bytes);
    this.crc = zlib.crc32(bytes, this.crc);
    this.out.write(bytes);
  }

  /** Opens the next entry for writing (the previous one must be closed). */
  entry(name: string): ZipStreamEntry {
    if (this.current) throw new Error(`zip entry ${this.current.name} is still open`);
    if (this.failure) throw this.failure;
    const nameBytes = Buffer.from(name, 'utf8');
    const localOffset = this.offset;
    const local = Buffer.alloc(30 + nameBytes.length);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(0x0808, 6); // sizes and CRC follow the data; UTF-8 name
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(this.time, 10);
    local.writeUInt16LE(this.date, 12);
    local.writeUInt16LE(nameBytes.length, 26);
    nameBytes.copy(local, 30);
    this.emit(local);
    const writer = new ZipEntryWriter(name, this.level, (bytes) => this.emit(bytes), this.inline);
    this.current = writer;
    const outDrained = async () => {
      if (this.out.writableNeedDrain) await Promise.race([once(this.out, 'drain'), this.closed]);
    };
    return new ZipStreamEntry(writer, outDrained, async () => {
      const { record, crc32, compressed } = await writer.close();
      const zip64 = compressed >= 0xffffffff || record.size >= 0xffffffff;
      const descriptor = Buffer.alloc(zip64 ? 24 : 16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc32, 4);
      if (zip64) {
        descriptor.writeBigUInt64LE(BigInt(compressed), 8);
        descriptor.writeBigUInt64LE(BigInt(record.size), 16);
      } else {
        descriptor.writeUInt32LE(compressed, 8);
        descriptor.writeUInt32LE(record.size, 12);
      }
      this.emit(descriptor);
      this.central.push(centralEntry({ name: nameBytes, time: this.time, date: this.date, crc32, method: 8, flags: 0x0808, compressed, size: record.size, offset: localOffset }));
      this.entries.push(record);
      this.current = undefined;
      await outDrained();
      return record;
    });
  }

  /** Adds an entry from strings or buffers; resolves once the zip has taken all of it. */
  async add(name: string, content: AsyncIterable<string | Buffer> | Iterable<string | Buffer> | string | Buffer): Promise<ZipEntryRecord> {
    const sink = this.entry(name);
    try {
      const pieces = typeof content === 'string' || Buffer.isBuffer(content) ? [content] : content;
      for await (const piece of pieces) {
        if (typeof piece === 'string') sink.write(piece);
        else sink.writeBytes(piece);
        if (sink.backlogged) await sink.drain();
      }
    } catch (err) {
      sink.abort();
      throw err;
    }
    return sink.close();
  }

  /** Writes the central directory and closes (and fsyncs) the file. */
  async finish(): Promise<WrittenZip> {
    if (this.current) throw new Error(`zip entry ${this.current.name} is still open`);
    const directory = Buffer.concat(this.central);
    const directoryOffset = this.offset;
    this.emit(directory);
    this.emit(zip64End(this.central.length, directory.length, directoryOffset));
    this.out.end();
    await this.closed;
    return { size: this.offset, sha256: this.hash.digest('hex'), crc32: this.crc >>> 0 };
  }

  /** Gives up on the zip (the caller removes the file). */
  abort(): void {
    this.current?.abort();
    this.out.destroy();
  }
}

/** An open entry: write into it synchronously, `await drain()` when `backlogged`, then `close()`. */
export class ZipStreamEntry {
  private readonly writer: ZipEntryWriter;
  private readonly outDrained: () => Promise<void>;
  private readonly finish: () => Promise<ZipEntryRecord>;

  constructor(writer: ZipEntryWriter, outDrained: () => Promise<void>, finish: () => Promise<ZipEntryRecord>) {
    this.writer = writer;
    this.outDrained = outDrained;
    this.finish = finish;
  }

  write(text: string): void {
    this.writer.write(text);
  }

  writeBytes(bytes: Buffer): void {
    this.writer.writeBytes(bytes);
  }

  writeRange(source: Buffer, start: number, end: number): void {
    this.writer.writeRange(source, start, end);
  }

  get backlogged(): boolean {
    return this.writer.backlogged;
  }

  /** Waits for the compressor, and for the file when the compressed bytes pile up in front of it. */
  async drain(): Promise<void> {
    await this.writer.drain();
    await this.outDrained();
  }

  close(): Promise<ZipEntryRecord> {
    return this.finish();
  }

  abort(): void {
    this.writer.abort();
  }
}
