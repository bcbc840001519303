import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);
// Directory group ids are kept as given: a hold may name a group the directory has not synced yet.
const groupId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);
const time = z.number().int().min(0).max(8_640_000_000_000_000);
const ids = (item: z.ZodType<string>) => z.array(item).max(10_000);

/** `POST /legal_holds`. */
export const createHoldBody = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, - and _').optional(),
  display_name: z.string().trim().min(1).max(128),
  description: z.string().max(4000).default(''),
  user_ids: ids(id).default([]),
  group_ids: ids(groupId).default([]),
  channel_ids: ids(id).default([]),
  starts_at: time.default(0),
  ends_at: time.default(0),
  query: z.string().max(4000).default(''),
  comment: z.string().max(4000).default(''),
});

/** `PATCH /legal_holds/{id}`: a new version; given fields replace the current ones. */
export const patchHoldBody = z.object({
  display_name: z.string().trim().min(1).max(128).optional(),
  description: z.string().max(4000).optional(),
  user_ids: ids(id).optional(),
  group_ids: ids(groupId).optional(),
  channel_ids: ids(id).optional(),
  starts_at: time.optional(),
  ends_at: time.optional(),
  query: z.string().max(4000).optional(),
  comment: z.string().max(4000).optional(),
});

/** `POST /legal_holds/{id}/release`. */
export const releaseHoldBody = z.object({ comment: z.string().max(4000).default('') });

export const listHoldsQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  include_released: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});
