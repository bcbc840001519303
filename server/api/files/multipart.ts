import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { AppError, InvalidInputError } from '../../lib/errors.ts';

export interface MultipartLimits {
  /** Most file parts accepted; more is a 400. */
  files: number;
  /** Most non-file fields accepted; more is a 400. */
  fields: number;
  /** Longest field value in bytes; longer is a 400. */
  fieldBytes: number;
}

export interface MultipartHandlers {
  /** A text field; throwing aborts the whole request with that error. */
  field(name: string, value: string): void;
  /** A file part; the handler must consume `stream`. Parts arrive one at a time, in body order. */
  file(name: string, stream: Readable, info: { filename: string | undefined; mimeType: string }): Promise<void>;
}

function malformed(detail: string): InvalidInputError {
  return new InvalidInputError('api.file.upload_file.malformed_body.app_error', 'The multipart body is malformed or incomplete.', detail);
}

/**
 * Streams a multipart/form-data request through `handlers`. Resolves once every part was handled; rejects
 * with the first error (a handler's, or a 400 for a malformed, truncated or over-limit body), after every
 * handler has settled. On failure parsing stops and the rest of the request body is drained and discarded.
 */
export function readMultipart(req: IncomingMessage, limits: MultipartLimits, handlers: MultipartHandlers): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { files: limits.files, fields: limits.fields, fieldSize: limits.fieldBytes } });
    } catch (err) {
      reject(malformed((err as Error).message));
      return;
    }
    const pending: Promise<void>[] = [];
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.destroy();
      req.resume();
      const error = err instanceof AppError ? err : malformed((err as Error)?.message ?? String(err));
      // Let handlers still running finish (they fail once their stream is destroyed), so the caller's
      // cleanup sees every file that was stored.
      void Promise.allSettled(pending).then(() => reject(error));
    };

    parser.on('field', (name, value, info) => {
      if (settled) return;
      if (info.valueTruncated) return fail(new InvalidInputError('api.context.invalid_param.app_error', `The ${name} field is too long.`));
      try {
        handlers.field(name, value);
      } catch (err) {
        fail(err);
      }
    });
    parser.on('file', (name, stream, info) => {
      // The parser destroys an unfinished part's stream when the body breaks off; that error reaches the
      // handler through its read, and must not crash the process while the handler is still awaiting.
      stream.on('error', () => undefined);
      if (settled) {
        stream.resume();
        return;
      }
      pending.push(handlers.file(name, stream, { filename: info.filename, mimeType: info.mimeType }).catch((err) => {
        stream.resume();
        fail(err);
      }));
    });
    parser.on('filesLimit', () => fail(new InvalidInputError('api.file.upload_file.too_many_files.app_error', `At most ${limits.files} files can be uploaded at once.`)));
    parser.on('fieldsLimit', () => fail(new InvalidInputError('api.context.invalid_param.app_error', 'The request has too many fields.')));
    parser.on('error', fail);
    parser.on('close', () => {
      if (settled) return;
      void Promise.all(pending).then(() => {
        if (settled) return;
        settled = true;
        resolve();
      });
    });
    req.on('error', fail);
    req.on('close', () => {
      if (!req.complete) fail(malformed('the client closed the connection before the body was complete'));
    });
    req.pipe(parser);
  });
}
