import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { NotFoundError } from '../lib/errors.ts';
import { payloadHash, signRequest, uriEncode, type S3Credentials } from './sigv4.ts';
import { isSafeKey, type ByteRange, type FileStore, type StoredFileStat, type StoredObject } from './storage.ts';

export interface S3StoreOptions extends S3Credentials {
  /** `https://s3.<region>.amazonaws.com`, or an S3-compatible server's base URL. */
  endpoint: string;
  bucket: string;
  /** Prepended to every key (e.g. `custodian/exports/`). */
  prefix?: string;
  /** Bucket in the path (`endpoint/bucket/key`) rather than in the host name (`bucket.endpoint/key`). */
  pathStyle: boolean;
  /** Objects at least this large are sent as a multipart upload of parts this size (5 MiB or more). */
  partBytes: number;
  /** Per request. */
  timeoutMs?: number;
}

/** What the S3 server answered when it refused a request: its status, error code and message. */
export class S3RequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(operation: string, key: string, status: number, code: string, detail: string) {
    super(`S3 refused ${operation} of ${JSON.stringify(key)}: HTTP ${status} ${code}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.code = code;
  }
}

const xmlValue = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? '';

/** Parts gathered from a stream: whole parts of `size` bytes, then whatever is left. */
async function* partsOf(content: Readable | AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of content) {
    let piece = Buffer.from(chunk as Uint8Array);
    while (length + piece.length >= size) {
      const take = size - length;
      pending.push(piece.subarray(0, take));
      yield Buffer.concat(pending);
      piece = piece.subarray(take);
      pending = [];
      length = 0;
    }
    if (piece.length) {
      pending.push(piece);
      length += piece.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending);
}

/**
 * Files in an S3 bucket (AWS or any S3-compatible server), signed with Signature Version 4. Large
 * objects go up as multipart uploads, one part in memory at a time; an upload that fails is aborted,
 * so nothing half-written stays under the key (S3 objects appear whole or not at all).
 */
export class S3FileStore implements FileStore {
  private readonly options: S3StoreOptions;

  constructor(options: S3StoreOptions) {
    if (options.partBytes < 5 * 1024 * 1024) throw new Error('S3 multipart parts must be at least 5 MiB');
    this.options = options;
  }

  /** Where an object lives, for messages: `s3://bucket/prefix/key`. */
  describe(key: string): string {
    return `s3://${this.options.bucket}/${this.objectName(key)}`;
  }

  private objectName(key: string): string {
    if (!isSafeKey(key)) throw new Error(`refusing unsafe storage key ${JSON.stringify(key)}`);
    return `${this.options.prefix ?? ''}${key}`;
  }

  private urlOf(key: string, query: Record<string, string> = {}): URL {
    const base = new URL(this.options.endpoint);
    const object = uriEncode(this.objectName(key), true);
    const url = this.options.pathStyle
      ? new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}/${this.options.bucket}/${object}`)
      : new URL(`${base.protocol}//${this.options.bucket}.${base.host}${base.pathname.replace(/\/$/, '')}/${object}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  private async request(operation: string, key: string, props: { method: string; query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string; ok?: number[] }): Promise<Response> {
    const url = this.urlOf(key, props.query);
    const headers = signRequest({ method: props.method, url, headers: props.headers ?? {}, payloadSha256: payloadHash(props.body), credentials: this.options });
    const response = await fetch(url, { method: props.method, headers, body: props.body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000) });
    if ((props.ok ?? [200]).includes(response.status)) return response;
    const text = props.method === 'HEAD' ? '' : await response.text().catch(() => '');
    throw new S3RequestError(operation, key, response.status, xmlValue(text, 'Code') || response.statusText, xmlValue(text, 'Message'));
  }

  async put(key: string, content: Readable | AsyncIterable<Uint8Array>): Promise<StoredObject> {
    const hash = crypto.createHash('sha256');
    let size = 0;
    let uploadId: string | undefined;
    const etags: string[] = [];
    try {
      for await (const part of partsOf(content, this.options.partBytes)) {
        hash.update(part);
        size += part.length;
        if (uploadId === undefined && part.length < this.options.partBytes) {
          await this.request('PutObject', key, { method: 'PUT', body: part });
          return { size, sha256: hash.digest('hex') };
        }
        if (uploadId === undefined) {
          const created = await this.request('CreateMultipartUpload', key, { method: 'POST', query: { uploads: '' } });
          uploadId = xmlValue(await created.text(), 'UploadId');
          if (!uploadId) throw new Error(`S3 gave no upload id for ${JSON.stringify(key)}`);
        }
        const uploaded = await this.request('UploadPart', key, { method: 'PUT', query: { partNumber: String(etags.length + 1), uploadId }, body: part });
        etags.push(uploaded.headers.get('etag') ?? '');
      }
      if (uploadId === undefined) {
        await this.request('PutObject', key, { method: 'PUT', body: Buffer.alloc(0) });
        return { size, sha256: hash.digest('hex') };
      }
      const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('');
      const completed = await this.request('CompleteMultipartUpload', key, { method: 'POST', query: { uploadId }, body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`, headers: { 'content-type': 'application/xml' } });
      // S3 may answer 200 and still report an error in the body.
      const answer = await completed.text();
      if (answer.includes('<Error>')) throw new S3RequestError('CompleteMultipartUpload', key, 200, xmlValue(answer, 'Code'), xmlValue(answer, 'Message'));
      return { size, sha256: hash.digest('hex') };
    } catch (err) {
      if (uploadId !== undefined) await this.request('AbortMultipartUpload', key, { method: 'DELETE', query: { uploadId }, ok: [200, 204, 404] }).catch(() => undefined);
      throw err;
    }
  }

  async open(key: string, range?: ByteRange): Promise<Readable> {
    let response: Response;
    try {
      response = await this.request('GetObject', key, { method: 'GET', headers: range ? { range: `bytes=${range.start}-${range.end}` } : {}, ok: [200, 206] });
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404) throw new NotFoundError('api.file.no_file.app_error', 'The file content could not be found.');
      throw err;
    }
    return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  }

  async stat(key: string): Promise<StoredFileStat | undefined> {
    try {
      const response = await this.request('HeadObject', key, { method: 'HEAD' });
      return { size: Number(response.headers.get('content-length') ?? 0), modifiedAt: Date.parse(response.headers.get('last-modified') ?? '') || 0 };
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.request('DeleteObject', key, { method: 'DELETE', ok: [200, 204, 404] });
  }
}
