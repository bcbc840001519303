import { Router } from '@koa/router';
import { z } from 'zod';
import { can } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { presentUser, type UserRow } from '../../users/presenter.ts';
import { visibleUsers } from '../../users/queries.ts';
import { routeKit } from '../kit.ts';

const id = z.string().regex(/^[a-z0-9]{26}$/);

/** Mattermost's UserSearch body (the fields Custodian honours). */
export const userSearchBody = z.object({
  term: z.string().trim().max(64),
  allow_inactive: z.boolean().default(false),
  team_id: id.optional(),
  in_channel_id: id.optional(),
  not_in_channel_id: id.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});

/** `%` and `_` typed by the user are literal characters, not wildcards. */
function likePrefix(term: string): string {
  return `${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * `POST /users/search`: users whose username, first or last name or nickname starts with the term
 * (an `@` in front is ignored); the email too for those who may manage users, who see emails anyway.
 */
export function userSearchRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/users/search', kit.auth, kit.body(userSearchBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(userSearchBody, ctx.state);
    const pattern = likePrefix(body.term.replace(/^@/, '').toLowerCase());
    const columns = ['users.username', 'users.first_name', 'users.last_name', 'users.nickname'];
    if (can(actor, 'manage_users', { kind: 'system' })) columns.push('users.email');
    const query = visibleUsers(db, actor)
      .where((q) => {
        for (const column of columns) q.orWhereRaw('lower(??) LIKE ?', [column, pattern]);
      })
      .orderBy('users.username')
      .limit(body.limit);
    if (!body.allow_inactive) query.where('users.delete_at', 0);
    if (body.team_id) query.whereIn('users.id', db('team_members').where({ team_id: body.team_id, delete_at: 0 }).select('user_id'));
    if (body.in_channel_id) query.whereIn('users.id', db('channel_members').where({ channel_id: body.in_channel_id }).select('user_id'));
    if (body.not_in_channel_id) query.whereNotIn('users.id', db('channel_members').where({ channel_id: body.not_in_channel_id }).select('user_id'));
    const rows: UserRow[] = await query;
    sendJson(ctx, 200, rows.map((r) => presentUser(r, actor)));
  });

  return router;
}
