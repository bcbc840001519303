import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);

/** The search itself, as POST /ediscovery/search takes it and a saved search stores it. */
export const searchFields = z.object({
  terms: z.string().max(4000).default(''),
  is_or_search: z.boolean().default(false),
  time_zone_offset: z.number().int().min(-14 * 3600).max(14 * 3600).default(0),
  include_versions: z.boolean().default(true),
  include_deleted: z.boolean().default(true),
  hold_id: id.optional(),
  custodian_ids: z.array(id).max(1000).default([]),
  channel_ids: z.array(id).max(10_000).default([]),
  team_ids: z.array(id).max(1000).default([]),
});

const paging = {
  page: z.number().int().min(0).max(10_000).default(0),
  per_page: z.number().int().min(1).max(200).default(60),
};

/** `POST /ediscovery/search`: a search, optionally run under a case (recorded with it in the audit log). */
export const searchBody = searchFields.extend({ ...paging, case_id: id.optional() });

/** `POST /ediscovery/cases/{id}/searches/{search_id}/run`. */
export const runBody = z.object(paging);

export const createCaseBody = z.object({
  name: z.string().trim().min(1).max(128),
  description: z.string().max(4000).default(''),
  hold_id: id.optional(),
});

export const patchCaseBody = z.object({
  name: z.string().trim().min(1).max(128).optional(),
  description: z.string().max(4000).optional(),
  hold_id: z.union([id, z.literal('')]).optional(),
});

export const saveSearchBody = searchFields.extend({ name: z.string().trim().min(1).max(128) });

export const pageQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
});

/** `POST /ediscovery/cases/{id}/exports`: a saved search of the case, or a hold (default: the case's hold). */
export const exportBody = z.object({
  search_id: id.optional(),
  hold_id: id.optional(),
  docid_prefix: z.string().regex(/^[A-Z][A-Z0-9_-]{0,11}$/).optional(),
});
