import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
// Client4 sends every option, empty cursors included.
const cursor = z.union([id, z.literal('')]).optional().transform((v) => v || undefined);
const flag = z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1');

/** GET /users/{user_id}/teams/{team_id}/threads, in Mattermost's option names. */
export const threadsQuery = z.object({
  since: z.coerce.number().int().min(0).default(0),
  before: cursor,
  after: cursor,
  per_page: z.coerce.number().int().min(1).max(200).default(30),
  extended: flag,
  deleted: flag,
  unread: flag,
  totalsOnly: flag,
  threadsOnly: flag,
});

export const threadQuery = z.object({ extended: flag });

/** A read position: epoch milliseconds. */
export const timestampParam = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
