import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { ZipArchive } from 'archiver';

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

/** Coalesces small strings into buffers of about 64 KiB so the zip stream is not fed byte by byte. */
async function* buffered(source: AsyncIterable<string | Buffer>, onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = () => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingLength = 0;
    onChunk(chunk);
    return chunk;
  };
  for await (const piece of source) {
    if (typeof piece === 'string') {
      pending.push(piece);
      pendingLength += piece.length;
      if (pendingLength >= 65_536) yield flush();
    } else {
      if (pendingLength > 0) yield flush();
      onChunk(piece);
      yield piece;
    }
  }
  if (pendingLength > 0) yield flush();
}

/**
 * A zip written to a file as a stream (bounded memory whatever its size), recording the size and
 * SHA-256 of every entry as it passes, and the size, SHA-256 and CRC-32 of the zip file itself.
 * Entries are added one after another; times are fixed so the same content gives the same bytes.
 */
export class ZipWriter {
  readonly entries: ZipEntryRecord[] = [];
  private readonly archive: ZipArchive;
  private readonly done: Promise<WrittenZip>;
  private readonly date: Date;

  constructor(file: string, options: { date: Date; level?: number }) {
    this.date = options.date;
    this.archive = new ZipArchive({ zlib: { level: options.level ?? 3 }, forceLocalTime: false });
    const hash = crypto.createHash('sha256');
    let size = 0;
    let crc = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        hash.update(chunk);
        crc = zlib.crc32(chunk, crc);
        callback(null, chunk);
      },
    });
    const out = fs.createWriteStream(file, { flags: 'w', mode: 0o640, flush: true });
    this.done = new Promise<WrittenZip>((resolve, reject) => {
      this.archive.on('error', reject);
      measure.on('error', reject);
      out.on('error', reject);
      out.on('close', () => resolve({ size, sha256: hash.digest('hex'), crc32: crc >>> 0 }));
    });
    this.done.catch(() => undefined);
    this.archive.pipe(measure).pipe(out);
  }

  /** Adds an entry from strings or buffers; resolves once the zip has taken all of it. */
  async add(name: string, content: AsyncIterable<string | Buffer> | string | Buffer): Promise<ZipEntryRecord> {
    const hash = crypto.createHash('sha256');
    let size = 0;
    const source = typeof content === 'string' || Buffer.isBuffer(content) ? [content] : content;
    const stream = Readable.from(
      buffered(source as AsyncIterable<string | Buffer>, (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      }),
      { objectMode: false },
    );
    const taken = new Promise<void>((resolve, reject) => {
      const onEntry = (entry: { name: string }) => {
        if (entry.name !== name) return;
        this.archive.off('entry', onEntry);
        resolve();
      };
      this.archive.on('entry', onEntry);
      stream.once('error', reject);
      this.done.catch(reject);
    });
    this.archive.append(stream, { name, date: this.date });
    await taken;
    const record = { name, size, sha256: hash.digest('hex') };
    this.entries.push(record);
    return record;
  }

  /** Writes the central directory and closes (and fsyncs) the file. */
  async finish(): Promise<WrittenZip> {
    await this.archive.finalize();
    return this.done;
  }

  /** Gives up on the zip (the caller removes the file). */
  abort(): void {
    this.archive.abort();
  }
}
