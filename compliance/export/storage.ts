import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LocalFileStore } from '../../server/files/local-store.ts';
import type { ByteRange, StoredFileStat } from '../../server/files/storage.ts';
import { ensureDir } from '../../server/lib/fs.ts';

/**
 * Where export zips live: `<dataDir>/exports/<job folder>/<batch>.zip`. A batch is written to a
 * temporary file beside them and renamed into place, so a crash never leaves half a zip under a
 * batch's name.
 */
export class ExportStorage {
  readonly root: string;
  private readonly store: LocalFileStore;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'exports');
    this.store = new LocalFileStore(this.root);
  }

  /** A scratch folder on the same file system as the exports (renames stay atomic). */
  tempDir(): string {
    const dir = path.join(this.root, '.tmp');
    ensureDir(dir, 0o700);
    return dir;
  }

  /** Moves a finished temporary file to `key` (replacing what a crashed attempt left) and syncs the folder. */
  async moveIn(tempFile: string, key: string): Promise<void> {
    const target = this.store.pathOf(key);
    ensureDir(path.dirname(target), 0o750);
    await fsp.rename(tempFile, target);
    const handle = await fsp.open(path.dirname(target), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  pathOf(key: string): string {
    return this.store.pathOf(key);
  }

  open(key: string, range?: ByteRange): Promise<Readable> {
    return this.store.open(key, range);
  }

  stat(key: string): Promise<StoredFileStat | undefined> {
    return this.store.stat(key);
  }
}
