import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../../server/config/schema.ts';
import { LocalFileStore } from '../../server/files/local-store.ts';
import { S3FileStore } from '../../server/files/s3-store.ts';
import type { ByteRange, StoredFileStat } from '../../server/files/storage.ts';
import { ensureDir } from '../../server/lib/fs.ts';

/** The S3 store the export settings describe (checked at boot: bucket and credentials are set). */
export function exportS3Store(config: Config): S3FileStore {
  return new S3FileStore({
    endpoint: config.exportS3Endpoint ?? `https://s3.${config.exportS3Region}.amazonaws.com`,
    region: config.exportS3Region,
    bucket: config.exportS3Bucket!,
    prefix: config.exportS3Prefix,
    accessKeyId: config.exportS3AccessKeyId!,
    secretAccessKey: config.exportS3SecretAccessKey!,
    pathStyle: config.exportS3PathStyle ?? config.exportS3Endpoint !== undefined,
    partBytes: config.exportS3PartSizeMb * 1024 * 1024,
  });
}

/**
 * Where export zips live: `<dataDir>/exports/<job folder>/<batch>.zip`, or the same keys in an S3
 * bucket. A batch is written to a temporary file under `<dataDir>/exports/.tmp` and then moved into
 * place (renamed, or uploaded whole), so a crash never leaves half a zip under a batch's name.
 */
export class ExportStorage {
  readonly root: string;
  private readonly local: LocalFileStore;
  private readonly remote: S3FileStore | undefined;

  /** `remote`: the S3 store finished zips go to; without it they stay on local disk. */
  constructor(dataDir: string, remote?: S3FileStore) {
    this.root = path.join(dataDir, 'exports');
    this.local = new LocalFileStore(this.root);
    this.remote = remote;
  }

  /** The store the configuration asks for (CUSTODIAN_EXPORT_STORE). */
  static for(config: Config): ExportStorage {
    return new ExportStorage(config.dataDir, config.exportStore === 's3' ? exportS3Store(config) : undefined);
  }

  /** A scratch folder on the same file system as the local exports (renames stay atomic). */
  tempDir(): string {
    const dir = path.join(this.root, '.tmp');
    ensureDir(dir, 0o700);
    return dir;
  }

  /**
   * Moves a finished temporary file to `key`, replacing what a crashed attempt left: renamed and the
   * folder synced, or uploaded to S3 (the temporary file is then the caller's to remove).
   */
  async moveIn(tempFile: string, key: string): Promise<void> {
    if (this.remote) {
      await this.remote.put(key, fs.createReadStream(tempFile, { highWaterMark: 1024 * 1024 }));
      return;
    }
    const target = this.local.pathOf(key);
    ensureDir(path.dirname(target), 0o750);
    await fsp.rename(tempFile, target);
    const handle = await fsp.open(path.dirname(target), 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Where a key is, for people: a local path or `s3://bucket/key`. */
  describe(key: string): string {
    return this.remote ? this.remote.describe(key) : this.local.pathOf(key);
  }

  open(key: string, range?: ByteRange): Promise<Readable> {
    return (this.remote ?? this.local).open(key, range);
  }

  stat(key: string): Promise<StoredFileStat | undefined> {
    return (this.remote ?? this.local).stat(key);
  }
}
