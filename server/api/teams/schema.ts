import { z } from 'zod';
import { displayNameSchema, urlNameSchema } from '../../teams/model.ts';

export const createTeamBody = z.object({
  name: urlNameSchema,
  display_name: displayNameSchema,
  type: z.enum(['O', 'I']).default('O'),
  description: z.string().max(255).optional(),
  allow_open_invite: z.boolean().optional(),
});

export const patchTeamBody = z.object({
  display_name: displayNameSchema.optional(),
  description: z.string().max(255).optional(),
  company_name: z.string().max(64).optional(),
  allowed_domains: z.string().max(1000).optional(),
  allow_open_invite: z.boolean().optional(),
});

export const addTeamMemberBody = z.object({
  team_id: z.string().regex(/^[a-z0-9]{26}$/).optional(),
  user_id: z.string().regex(/^[a-z0-9]{26}$/),
});

export const updateSchemeRolesBody = z.object({ scheme_admin: z.boolean(), scheme_user: z.boolean() });
