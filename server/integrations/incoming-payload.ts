// Reading what is POSTed to an incoming webhook: JSON, Slack's `payload=<json>` form, or a multipart form.
import busboy from 'busboy';
import { z } from 'zod';
import { InvalidInputError } from '../lib/errors.ts';
import { attachmentsSchema } from './slack.ts';

const text = z.string().nullable().optional().transform((v) => v ?? '');

/** Mattermost's IncomingWebhookRequest. Unknown keys are ignored; a value of the wrong type is refused. */
export const incomingWebhookRequestSchema = z.object({
  text,
  username: text,
  icon_url: text,
  icon_emoji: text,
  channel: text,
  type: text,
  props: z.record(z.string(), z.unknown()).nullable().optional().transform((v) => v ?? {}),
  attachments: attachmentsSchema.transform((v) => v ?? null),
  priority: z.object({ priority: z.string().optional(), requested_ack: z.boolean().optional(), persistent_notifications: z.boolean().optional() }).nullable().optional(),
});
export type IncomingWebhookRequest = z.output<typeof incomingWebhookRequestSchema>;

function parseError(detail: string): InvalidInputError {
  return new InvalidInputError('model.incoming_hook.parse_data.app_error', 'Unable to parse incoming data.', detail);
}

/**
 * Escapes raw newlines, carriage returns and tabs inside JSON strings. Scripts often build webhook
 * bodies by pasting text into a template, and Mattermost accepts the result; so does Custodian.
 */
export function escapeControlCharsInStrings(json: string): string {
  let out = '';
  let inString = false;
  let escaped = false;
  for (const ch of json) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      else if (ch === '\n') {
        out += '\\n';
        continue;
      } else if (ch === '\r') {
        out += '\\r';
        continue;
      } else if (ch === '\t') {
        out += '\\t';
        continue;
      }
    } else if (ch === '"') inString = true;
    out += ch;
  }
  return out;
}

/** Parses a JSON webhook payload (tolerating raw control characters in strings) and checks its fields. */
export function parseJsonPayload(raw: string): IncomingWebhookRequest {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    try {
      value = JSON.parse(escapeControlCharsInStrings(raw));
    } catch (err) {
      throw parseError((err as Error).message);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw parseError('the payload must be a JSON object');
  const parsed = incomingWebhookRequestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw parseError(`${issue.path.join('.') || 'payload'}: ${issue.message}`);
  }
  return parsed.data;
}

const formFields = ['text', 'username', 'icon_url', 'icon_emoji', 'channel', 'type'] as const;

/** Reads the fields of a multipart/form-data body: a `payload` JSON field, or the request's fields one by one. */
export async function parseMultipartPayload(body: Buffer, contentType: string, limit: number): Promise<IncomingWebhookRequest> {
  const fields = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType }, limits: { fieldSize: limit, fields: 50, files: 0 } });
    } catch (err) {
      reject(new InvalidInputError('api.webhook.incoming.error', 'Could not decode the multipart data of the incoming webhook.', (err as Error).message));
      return;
    }
    parser.on('field', (name, value) => {
      if (!fields.has(name)) fields.set(name, value);
    });
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', (err) => reject(new InvalidInputError('api.webhook.incoming.error', 'Could not decode the multipart data of the incoming webhook.', (err as Error).message)));
    parser.on('close', () => resolve());
    parser.end(body);
  });
  const payload = fields.get('payload');
  if (payload !== undefined) return parseJsonPayload(payload);
  const value: Record<string, unknown> = {};
  for (const name of formFields) if (fields.has(name)) value[name] = fields.get(name);
  for (const name of ['props', 'attachments']) {
    const json = fields.get(name);
    if (json === undefined) continue;
    try {
      value[name] = JSON.parse(json);
    } catch (err) {
      throw parseError(`${name}: ${(err as Error).message}`);
    }
  }
  const parsed = incomingWebhookRequestSchema.safeParse(value);
  if (!parsed.success) throw parseError(parsed.error.issues[0].message);
  return parsed.data;
}

/**
 * Decodes a webhook body by its content type, as Mattermost does: `application/x-www-form-urlencoded`
 * carries the JSON in a `payload` field (Slack's convention), multipart carries fields, anything else
 * (including no content type) is JSON.
 */
export async function parseIncomingPayload(body: Buffer, contentType: string, limit: number, query: Record<string, unknown>): Promise<IncomingWebhookRequest> {
  const mediaType = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (contentType && !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mediaType)) {
    throw new InvalidInputError('api.webhook.incoming.error', 'Could not decode the content type of the incoming webhook.', `content type ${contentType.slice(0, 100)}`);
  }
  if (mediaType === 'multipart/form-data') return parseMultipartPayload(body, contentType, limit);
  if (mediaType === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(decodeUtf8(body)).get('payload') ?? (typeof query.payload === 'string' ? query.payload : '');
    return parseJsonPayload(payload);
  }
  return parseJsonPayload(decodeUtf8(body));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw parseError('the body is not valid UTF-8');
  }
}
