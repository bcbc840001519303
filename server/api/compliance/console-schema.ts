import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);

/** `GET /compliance/directory`: `term` (what a picker's user typed) or `ids` (comma-separated), not both. */
export const directoryQuery = z
  .object({
    term: z.string().trim().min(1).max(64).optional(),
    ids: z
      .string()
      .max(200 * 27)
      .optional()
      .transform((v) => (v === undefined ? undefined : v.split(',').filter(Boolean)))
      .pipe(z.array(id).min(1).max(200).optional()),
  })
  .refine((q) => (q.term === undefined) !== (q.ids === undefined), 'give either term or ids');
