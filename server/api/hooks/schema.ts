import { z } from 'zod';
export { incomingWebhookUpdateSchema as updateIncomingBody, newIncomingWebhookSchema as createIncomingBody } from '../../integrations/incoming-webhooks.ts';
export { newOutgoingWebhookSchema as createOutgoingBody, outgoingWebhookUpdateSchema as updateOutgoingBody } from '../../integrations/outgoing-webhooks.ts';

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');
const paging = {
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
};

export const listIncomingQuery = z.object({
  team_id: z.union([id, z.literal('')]).optional(),
  include_total_count: z.enum(['true', 'false', '']).optional(),
  ...paging,
});

export const listOutgoingQuery = z.object({
  team_id: z.union([id, z.literal('')]).optional(),
  channel_id: z.union([id, z.literal('')]).optional(),
  ...paging,
});
