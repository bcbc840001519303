import { z } from 'zod';
import { displayNameSchema, urlNameSchema } from '../../teams/model.ts';

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');

export const createChannelBody = z.object({
  team_id: id,
  name: urlNameSchema,
  display_name: displayNameSchema,
  type: z.enum(['O', 'P']),
  header: z.string().max(1024).optional(),
  purpose: z.string().max(250).optional(),
});

export const patchChannelBody = z.object({
  display_name: displayNameSchema.optional(),
  name: urlNameSchema.optional(),
  header: z.string().max(1024).optional(),
  purpose: z.string().max(250).optional(),
});

export const directBody = z.tuple([id, id]);
export const groupBody = z.array(id).min(2).max(8);
export const addMemberBody = z.object({ user_id: id.optional(), user_ids: z.array(id).max(100).optional(), post_root_id: z.string().optional() }).refine((b) => b.user_id || b.user_ids?.length, 'user_id or user_ids is required');
export const viewBody = z.object({ channel_id: z.string().max(26), prev_channel_id: z.string().max(26).optional(), collapsed_threads_supported: z.boolean().optional() });
export const schemeRolesBody = z.object({ scheme_admin: z.boolean(), scheme_user: z.boolean() });
