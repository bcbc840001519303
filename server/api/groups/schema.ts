import { z } from 'zod';

export const listQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  source: z.enum(['ldap', 'saml', 'oidc', 'custom']).optional(),
  q: z.string().max(64).optional(),
});

const groupName = z.string().regex(/^[a-z0-9._-]{1,64}$/, 'must be 1-64 lowercase letters, digits, ".", "-" or "_"');
const id = z.string().regex(/^[a-z0-9]{26}$/);

const flag = z.enum(['true', 'false', '']).default('false').transform((v) => v === 'true');
const groupSource = z.enum(['ldap', 'saml', 'oidc', 'custom', '']).optional().transform((v) => v || undefined);

/** GET /groups: Mattermost's filters (include_timezones and include_channel_member_count are not served). */
export const searchQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  q: z.string().max(64).optional(),
  // Mattermost calls the parameter group_source; its clients send source.
  source: groupSource,
  group_source: groupSource,
  /** Directory and identity-provider groups only (no custom groups): those that can be linked. */
  only_syncable_sources: flag,
  filter_allow_reference: flag,
  include_member_count: flag,
  include_member_ids: flag,
  include_total_count: flag,
  include_archived: flag,
  filter_archived: flag,
  filter_parent_team_permitted: flag,
  filter_has_member: id.optional(),
  not_associated_to_team: id.optional(),
  not_associated_to_channel: id.optional(),
  since: z.coerce.number().int().min(0).optional(),
});

export const patchGroupBody = z.object({
  display_name: z.string().min(1).max(128).optional(),
  name: groupName.optional(),
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

/** Mattermost's GroupWithUserIds: a custom group and its first members. */
export const createGroupBody = z.object({
  name: groupName,
  display_name: z.string().trim().min(1).max(128),
  description: z.string().max(1024).default(''),
  source: z.string().max(16).default(''),
  allow_reference: z.boolean().default(true),
  remote_id: z.string().max(512).nullish(),
  user_ids: z.array(id).max(1000).default([]),
});

/** Mattermost's GroupModifyMembers. */
export const memberIdsBody = z.object({ user_ids: z.array(id).min(1).max(1000) });

export const syncablePatchBody = z.object({ auto_add: z.boolean().optional(), scheme_admin: z.boolean().optional() });

/** GET /{teams|channels}/{id}/members_minus_group_members: `group_ids` is a comma-separated list of ids. */
export const minusGroupMembersQuery = z.object({
  group_ids: z.string().max(27 * 100).transform((v) => [...new Set(v.split(','))]).pipe(z.array(id).min(1).max(100)),
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
});
