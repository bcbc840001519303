import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);
/** Query flags arrive as strings; `?download=1`, `=true` and a bare `?download` all count. */
const flag = z.union([z.string(), z.array(z.string())]).optional().transform((v) => {
  const value = Array.isArray(v) ? v[v.length - 1] : v;
  return value !== undefined && !['0', 'false', 'no'].includes(value.toLowerCase());
});

/** `POST /files?channel_id=` (the channel may instead come as a form field). */
export const uploadQuery = z.object({
  channel_id: id.optional(),
  bookmark: z.string().optional(),
});

/** `channel_id` and `client_ids` form fields. */
export const channelIdField = id;
export const clientIdField = z.string().min(1).max(128);

/** `GET /files/{id}?download=1` forces an attachment. */
export const downloadQuery = z.object({ download: flag });

/** Upload limits per request. */
export const MAX_FILES_PER_REQUEST = 10;
export const MAX_FIELDS_PER_REQUEST = 50;
export const MAX_FIELD_BYTES = 1024;
