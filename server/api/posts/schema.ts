import { z } from 'zod';
export { newPostSchema as createPostBody, postPatchSchema as patchPostBody } from '../../posts/service.ts';
import { postPatchSchema } from '../../posts/service.ts';

const id = z.string().regex(/^[a-z0-9]{26}$/, 'must be an id');

export const updatePostBody = postPatchSchema.extend({ id: id.optional() });

export const channelPostsQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  since: z.coerce.number().int().min(0).optional(),
  before: id.optional(),
  after: id.optional(),
});

export const emojiName = z.string().regex(/^[a-zA-Z0-9_+-]{1,64}$/, 'must be an emoji name');
export const reactionBody = z.object({ user_id: id, post_id: id, emoji_name: emojiName, create_at: z.number().optional() });
export const idList = z.array(id).min(1).max(200);
