import type { Readable } from 'node:stream';
import type { ExportFile, ExportMessage } from '../records.ts';
import type { BatchSource } from '../source.ts';
import type { ZipWriter } from '../zip.ts';

export const exportFormats = ['actiance', 'globalrelay', 'csv', 'jsonl'] as const;
export type ExportFormatName = (typeof exportFormats)[number];

/** What a batch holds, for the manifest and the job's totals. */
export interface BatchCounts {
  channels: number;
  /** Post rows exported (one per post update in the cursor range). */
  posts: number;
  /** Edit versions exported (EditedOriginalMsg). */
  versions: number;
  /** Every message record written, including creations of deleted posts and file deletions. */
  messages: number;
  joins: number;
  leaves: number;
  attachments: number;
  warnings: number;
}

export function emptyCounts(): BatchCounts {
  return { channels: 0, posts: 0, versions: 0, messages: 0, joins: 0, leaves: 0, attachments: 0, warnings: 0 };
}

/** What a format writes with. */
export interface FormatContext {
  source: BatchSource;
  zip: ZipWriter;
  counts: BatchCounts;
  /** The job's fixed end time: the export's "as of" date. */
  exportTime: number;
  /** Names the export (Message-ID, file names). */
  jobId: string;
  batchSeq: number;
  /** A scratch folder for the format's own temporary files (removed by the format). */
  tempDir: string;
  /**
   * Queues an attachment to be copied into the zip after the documents; returns its path in the zip
   * (`files/<post id>/<file id>-<name>`).
   */
  attach(postId: string, file: ExportFile): string;
  /** Opens an attachment's content, or undefined (and a warning) when it is missing from the store. */
  openFile(message: ExportMessage, file: ExportFile): Promise<Readable | undefined>;
  warn(text: string): void;
}

export interface ExportFormat {
  name: ExportFormatName;
  write(ctx: FormatContext): Promise<void>;
}

/** Counts a message record in its category. */
export function countMessage(counts: BatchCounts, message: ExportMessage): void {
  counts.messages++;
  if (message.source === 'version') counts.versions++;
  else if (message.source === 'post') counts.posts++;
}

/**
 * Pulls values one at a time with look-ahead (merging sorted streams), from a stream of arrays of values
 * (`Peekable.of` takes single values): then only a new chunk costs an asynchronous step.
 */
export class Peekable<T> {
  private readonly chunks: AsyncIterator<T[]>;
  private buffer: T[] = [];
  private index = 0;
  private done = false;

  constructor(chunks: AsyncIterable<T[]>) {
    this.chunks = chunks[Symbol.asyncIterator]();
  }

  /** Over a stream of single values. */
  static of<T>(source: AsyncIterable<T>): Peekable<T> {
    return new Peekable(Peekable.chunked(source));
  }

  private static async *chunked<T>(source: AsyncIterable<T>): AsyncGenerator<T[]> {
    for await (const value of source) yield [value];
  }

  async peek(): Promise<T | undefined> {
    while (this.index >= this.buffer.length) {
      if (this.done) return undefined;
      const next = await this.chunks.next();
      if (next.done) {
        this.done = true;
        this.buffer = [];
        this.index = 0;
        return undefined;
      }
      this.buffer = next.value;
      this.index = 0;
    }
    return this.buffer[this.index];
  }

  async next(): Promise<T | undefined> {
    const value = await this.peek();
    if (value !== undefined) this.index++;
    return value;
  }
}

/** ISO 8601 UTC, the time format of the human-readable parts. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
