import type { Context } from 'koa';
import { writeError } from '../../http/middleware/error-handler.ts';
import { isPreviewable, type FileInfoRow } from '../../files/presenter.ts';
import { openFileContent } from '../../files/service.ts';
import type { ByteRange, FileStore } from '../../files/storage.ts';

/**
 * Parses a `Range` header against a file of `size` bytes: a single satisfiable range, 'unsatisfiable'
 * (answer 416), or undefined to serve the whole file (no header, a malformed one, or several ranges).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const first = match[1] === '' ? undefined : Number(match[1]);
  const last = match[2] === '' ? undefined : Number(match[2]);
  if ((first !== undefined && !Number.isSafeInteger(first)) || (last !== undefined && !Number.isSafeInteger(last))) return undefined;
  if (first === undefined) {
    // Suffix range: the last N bytes.
    if (last === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - (last as number)), end: size - 1 };
  }
  if (last !== undefined && last < first) return undefined;
  if (first >= size) return 'unsatisfiable';
  return { start: first, end: Math.min(last ?? size - 1, size - 1) };
}

/** `Content-Disposition` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

function contentType(row: FileInfoRow): string {
  return row.mime_type === 'text/plain' ? 'text/plain; charset=utf-8' : row.mime_type;
}

/**
 * Streams a file's content with safe headers: the sniffed type, nosniff, inline only for safe images
 * (and never when `forceDownload`), ETag revalidation and single byte ranges (206/416).
 */
export async function sendFileContent(ctx: Context, store: FileStore, row: FileInfoRow, options: { forceDownload: boolean }): Promise<void> {
  const etag = `"${row.sha256}"`;
  const inline = !options.forceDownload && isPreviewable(row);
  ctx.set({
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', row.name),
    'Cache-Control': 'private, no-cache',
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': new Date(row.create_at).toUTCString(),
  });
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    ctx.status = 304;
    return;
  }
  const ifRange = ctx.get('If-Range');
  const range = ifRange && ifRange !== etag ? undefined : parseRange(ctx.get('Range') || undefined, row.size);
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${row.size}`);
    writeError(ctx, 416, 'api.file.range_not_satisfiable.app_error', 'The requested range is outside the file.');
    return;
  }
  const stream = await openFileContent(store, row, range);
  ctx.status = range ? 206 : 200;
  ctx.body = stream;
  ctx.set('Content-Type', contentType(row));
  ctx.length = range ? range.end - range.start + 1 : row.size;
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${row.size}`);
}
