import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9]{26}$/);
const hours = z.number().int().min(1).max(24 * 365 * 100);
const days = z.number().int().min(1).max(365 * 100);
/** Days to keep posts; -1 keeps them forever (Mattermost's convention). */
const postDuration = z.number().int().refine((d) => d === -1 || (d >= 1 && d <= 365 * 100), 'must be -1 (keep forever) or 1 to 36500 days');

export const pageQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
});

/** Hours or days (days win when both are given); undefined when neither. */
function hoursOf(h: number | undefined, d: number | undefined): number | undefined {
  return d !== undefined ? d * 24 : h;
}

const globalFields = z.object({
  message_deletion_enabled: z.boolean().optional(),
  message_retention_hours: hours.optional(),
  message_retention_days: days.optional(),
  file_deletion_enabled: z.boolean().optional(),
  file_retention_hours: hours.optional(),
  file_retention_days: days.optional(),
  keep_pinned: z.boolean().optional(),
});

const toGlobalChange = (b: z.output<typeof globalFields>) => {
  const change = {
    message_deletion_enabled: b.message_deletion_enabled,
    message_retention_hours: hoursOf(b.message_retention_hours, b.message_retention_days),
    file_deletion_enabled: b.file_deletion_enabled,
    file_retention_hours: hoursOf(b.file_retention_hours, b.file_retention_days),
    keep_pinned: b.keep_pinned,
  };
  return Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Partial<typeof change>;
};

/** `PUT /data_retention/policy`: Custodian's way to set the global policy (retention in hours or days). */
export const globalPolicyBody = globalFields.strict().transform(toGlobalChange);

/** `POST /data_retention/policies` (Mattermost's CreateDataRetentionCustomPolicy, plus keep_pinned). */
export const createPolicyBody = z.object({
  display_name: z.string().trim().min(1).max(64),
  post_duration: postDuration,
  keep_pinned: z.boolean().default(false),
  team_ids: z.array(id).max(10_000).default([]),
  channel_ids: z.array(id).max(10_000).default([]),
});

/** `PATCH /data_retention/policies/{id}`. */
export const patchPolicyBody = z.object({
  display_name: z.string().trim().min(1).max(64).optional(),
  post_duration: postDuration.optional(),
  keep_pinned: z.boolean().optional(),
});

/** Bodies of `POST|DELETE .../teams` and `.../channels`: a JSON array of ids. */
export const idList = z.array(id).min(1).max(10_000);

export const searchBody = z.object({ term: z.string().max(64).default('') });

/** `POST /data_retention/preview`: the change to preview (none: what the policies in force delete now). */
export const previewBody = z
  .object({
    global: globalFields.optional(),
    policy: z
      .object({
        id: id.optional(),
        post_duration: postDuration,
        keep_pinned: z.boolean().optional(),
        team_ids: z.array(id).max(10_000).optional(),
        channel_ids: z.array(id).max(10_000).optional(),
      })
      .optional(),
  })
  .transform((b) => ({ global: b.global ? toGlobalChange(b.global) : undefined, policy: b.policy }));
