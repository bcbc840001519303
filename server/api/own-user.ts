import type { Actor } from '../auth/actor.ts';
import { ForbiddenError } from '../lib/errors.ts';
import { userIdParam } from './users/routes.ts';

/**
 * The `user_id` path parameter of a route about the caller's own reading state or drafts: `me` or
 * their own id. Nobody, administrators included, reads or changes another user's through these
 * routes: that is what eDiscovery and compliance exports are for.
 */
export function ownUserParam(params: Record<string, string>, actor: Actor): string {
  const userId = userIdParam(params, actor);
  if (userId !== actor.userId) throw new ForbiddenError('api.context.permissions.app_error', "You cannot act on another user's threads or drafts.");
  return userId;
}
