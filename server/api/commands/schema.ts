import { z } from 'zod';
export { commandArgsSchema as executeBody, commandUpdateSchema as updateCommandBody, newCommandSchema as createCommandBody } from '../../integrations/commands/model.ts';

export const listCommandsQuery = z.object({
  team_id: z.string().regex(/^[a-z0-9]{26}$/, 'must be an id'),
  custom_only: z.enum(['true', 'false', '1', '0', '']).default('false').transform((v) => v === 'true' || v === '1'),
});
