import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureDir } from '../lib/fs.ts';
import { NotFoundError } from '../lib/errors.ts';
import { isSafeKey, type ByteRange, type FileStore, type StoredFileStat, type StoredObject } from './storage.ts';

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Files on local disk under `root` (normally `<dataDir>/files`). Writes go to a temporary file in the
 * destination directory, are fsynced, then renamed into place, so a crash never leaves a partial file
 * under its final key.
 */
export class LocalFileStore implements FileStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The absolute path of `key`; refuses keys that are malformed or would escape the root. */
  pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    if (!isSafeKey(key) || !full.startsWith(this.root + path.sep)) throw new Error(`refusing unsafe storage key ${JSON.stringify(key)}`);
    return full;
  }

  async put(key: string, content: Readable | AsyncIterable<Uint8Array>): Promise<StoredObject> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    const temp = path.join(dir, `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
    const hash = crypto.createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    ensureDir(dir, 0o750);
    try {
      await pipeline(content, measure, fs.createWriteStream(temp, { flags: 'wx', mode: 0o640, flush: true }));
      await fsp.rename(temp, target);
      await fsyncDir(dir);
    } catch (err) {
      await fsp.rm(temp, { force: true });
      await this.pruneEmptyDir(dir);
      throw err;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.pathOf(key), 'r');
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError('api.file.no_file.app_error', 'The file content could not be found.');
      throw err;
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<StoredFileStat | undefined> {
    try {
      const st = await fsp.stat(this.pathOf(key));
      return st.isFile() ? { size: st.size, modifiedAt: Math.floor(st.mtimeMs) } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.pathOf(key);
    await fsp.rm(target, { force: true });
    await this.pruneEmptyDir(path.dirname(target));
  }

  /** Removes a key's directory when it is left empty (each upload has its own); never the root itself. */
  private async pruneEmptyDir(dir: string): Promise<void> {
    if (!dir.startsWith(this.root + path.sep)) return;
    await fsp.rmdir(dir).catch(() => undefined);
  }
}
