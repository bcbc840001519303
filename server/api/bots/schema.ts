import { z } from 'zod';
export { botPatchSchema as patchBotBody, newBotSchema as createBotBody } from '../../bots/service.ts';

const flag = z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1');

export const listBotsQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  include_deleted: flag,
  only_orphaned: flag,
});

export const getBotQuery = z.object({ include_deleted: flag });
