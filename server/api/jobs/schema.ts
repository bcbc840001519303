import { z } from 'zod';

const pageNumber = z.coerce.number().int().min(0).max(100_000).default(0);
const perPage = z.coerce.number().int().min(1).max(200).default(60);

/** `POST /jobs`: Mattermost's Job with a type and string data. */
export const createJobBody = z.object({
  type: z.string().min(1).max(64),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
});

/** `GET /jobs` and `GET /jobs/type/{type}`. */
export const listJobsQuery = z.object({
  page: pageNumber,
  per_page: perPage,
  status: z.string().max(200).optional().transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined)),
});

export const jobType = z.string().regex(/^[a-z0-9_]{1,64}$/);
