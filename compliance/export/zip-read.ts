import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** One entry of a zip being read. */
export interface ZipReadEntry {
  name: string;
  size: number;
  open(): Promise<Readable>;
}

/** Reads a zip's entries in order, one at a time (nothing is held in memory but the central directory). */
export async function* readZip(file: string): AsyncGenerator<ZipReadEntry> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (err, z) => (err ? reject(err) : resolve(z!))),
  );
  try {
    while (true) {
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          cleanup();
          resolve(e);
        };
        const onEnd = () => {
          cleanup();
          resolve(undefined);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const cleanup = () => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) return;
      yield {
        name: entry.fileName,
        size: entry.uncompressedSize,
        open: () => new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream!)))),
      };
    }
  } finally {
    zip.close();
  }
}
