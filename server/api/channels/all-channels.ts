import { Router } from '@koa/router';
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import { presentChannel, type ChannelRow } from '../../channels/model.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { queryOf, routeKit } from '../kit.ts';

const allChannelsQuery = z.object({
  page: z.coerce.number().int().min(0).max(100_000).default(0),
  per_page: z.coerce.number().int().min(1).max(200).default(60),
  include_deleted: z.enum(['true', 'false']).default('false'),
  /** Custodian's addition: one team's channels only. */
  team_id: z.string().regex(/^[a-z0-9]{26}$/).optional(),
});

/**
 * `GET /channels`: every public and private channel of every team, with its team's names
 * (Mattermost's ChannelWithTeamData), for system admins. Archived ones with `include_deleted=true`.
 */
export function allChannelsRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/channels', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_system', { kind: 'system' });
    const { page, per_page, include_deleted, team_id } = queryOf(allChannelsQuery, ctx.query);
    const query = db('channels as c').join('teams as t', 't.id', 'c.team_id').whereIn('c.type', ['O', 'P'])
      .orderBy('t.display_name').orderBy('c.display_name').orderBy('c.id').offset(page * per_page).limit(per_page)
      .select('c.*', 't.display_name as team_display_name', 't.name as team_name', 't.update_at as team_update_at');
    if (include_deleted !== 'true') query.where('c.delete_at', 0);
    if (team_id) query.where('c.team_id', team_id);
    const rows = (await query) as (ChannelRow & { team_display_name: string; team_name: string; team_update_at: number })[];
    sendJson(ctx, 200, rows.map((r) => ({ ...presentChannel(r), team_display_name: r.team_display_name, team_name: r.team_name, team_update_at: Number(r.team_update_at) })));
  });

  return router;
}
