import { z } from 'zod';
import { newUserSchema } from '../../users/service.ts';

export const loginBody = z.object({
  login_id: z.string().min(1).max(256),
  password: z.string().min(1).max(256),
  token: z.string().max(64).optional(),
  device_id: z.string().max(512).optional(),
  ldap_only: z.union([z.boolean(), z.string()]).optional(),
});

export const createUserBody = newUserSchema.extend({ password: z.string().max(256) });

export const patchUserBody = z.object({
  nickname: z.string().max(64).optional(),
  first_name: z.string().max(64).optional(),
  last_name: z.string().max(64).optional(),
  position: z.string().max(128).optional(),
  locale: z.string().max(5).optional(),
  props: z.record(z.string(), z.string()).optional(),
  notify_props: z.record(z.string(), z.string()).optional(),
  timezone: z.record(z.string(), z.string()).optional(),
});

export const updateRolesBody = z.object({ roles: z.string().max(256) });
export const updateActiveBody = z.object({ active: z.boolean() });
export const idListBody = z.array(z.string().regex(/^[a-z0-9]{26}$/)).max(1000);
export const usernameListBody = z.array(z.string().max(64)).max(1000);
export const createTokenBody = z.object({ description: z.string().max(255).default('') });
export const tokenIdBody = z.object({ token_id: z.string().regex(/^[a-z0-9]{26}$/) });
export const sessionIdBody = z.object({ session_id: z.string().regex(/^[a-z0-9]{26}$/) });
export const pagingQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
});
