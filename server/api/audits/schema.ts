import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);
const name = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);
const epochMs = z.coerce.number().int().min(0).max(8_640_000_000_000_000);

/** GET /audits: Mattermost's paging plus filters and the export formats. */
export const auditsQuery = z.object({
  page: z.coerce.number().int().min(0).max(1_000_000).default(0),
  per_page: z.coerce.number().int().min(1).max(1000).default(60),
  user_id: id.optional(),
  event_name: name.optional(),
  object_type: name.optional(),
  status: z.enum(['success', 'attempt', 'fail']).optional(),
  since: epochMs.optional(),
  until: epochMs.optional(),
  /** json (a page, Mattermost's shape), or csv / jsonl (every matching record, streamed). */
  format: z.enum(['json', 'csv', 'jsonl']).default('json'),
});
export type AuditsQuery = z.output<typeof auditsQuery>;
