import { z } from 'zod';

const time = z.coerce.number().int().min(0).max(8_640_000_000_000_000);

/** `POST /compliance/reports`: Mattermost's Compliance (desc, emails and keywords comma-separated). */
export const createReportBody = z.object({
  desc: z.string().max(512).default(''),
  emails: z.string().max(1024).default(''),
  keywords: z.string().max(1024).default(''),
  start_at: time,
  end_at: time,
});

export const listReportsQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
});
