import { z } from 'zod';

export const listQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  source: z.enum(['ldap', 'saml', 'oidc', 'custom']).optional(),
  q: z.string().max(64).optional(),
});

export const patchGroupBody = z.object({
  display_name: z.string().min(1).max(128).optional(),
  name: z.string().regex(/^[a-z0-9._-]{1,64}$/, 'must be 1-64 lowercase letters, digits, ".", "-" or "_"').optional(),
  description: z.string().max(1024).optional(),
  allow_reference: z.boolean().optional(),
  /** System roles the group grants its members (space-separated). */
  roles: z.string().max(256).optional(),
});

export const syncableType = z.enum(['teams', 'channels']);

export const linkBody = z.object({
  auto_add: z.boolean().default(true),
  scheme_admin: z.boolean().default(false),
}).default({ auto_add: true, scheme_admin: false });

export const constrainedBody = z.object({ group_constrained: z.boolean() });
