import type { Context } from 'koa';
import { InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../lib/errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the whole request body, refusing (413) anything over `limit` bytes before buffering it all. */
export async function readRawBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.unpipe?.();
      ctx.req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError('api.context.request_body_too_large.app_error', `The request body is larger than the limit of ${limit} bytes.`);
}

/** Decodes bytes as UTF-8, refusing invalid sequences instead of replacing them. */
export function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidInputError('api.context.invalid_utf8.app_error', 'The request body is not valid UTF-8.');
  }
}

// Mattermost ignores the content type of JSON bodies and many scripts send JSON with curl's default
// form type or none at all, so those are read as JSON too; clearly different formats are refused.
const jsonCompatibleTypes = new Set(['', 'application/json', 'text/plain', 'application/x-www-form-urlencoded']);

/** Reads and parses a JSON body; malformed JSON is a 400, a foreign content type a 415, too large a 413. */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
  if (!jsonCompatibleTypes.has(type) && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError('api.context.unsupported_media_type.app_error', `Expected a JSON body, got ${type}.`);
  }
  const text = decodeUtf8(await readRawBody(ctx, limit));
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError('api.context.invalid_body_param.app_error', 'The request body is not valid JSON.', (err as Error).message);
  }
}
