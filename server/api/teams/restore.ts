import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { nowMs } from '../../lib/clock.ts';
import type { Services } from '../../services.ts';
import { presentTeam, type TeamRow } from '../../teams/model.ts';
import { openAudit } from '../audited.ts';
import { idParam, routeKit } from '../kit.ts';
import { loadTeamAccess } from './routes.ts';

/** `POST /teams/{team_id}/restore`: brings an archived team back, members and channels as they were. */
export function teamRestoreRoutes(services: Services): Router<AppState> {
  const { events } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/teams/:team_id/restore', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const audit = openAudit(services, ctx, 'restore_team', { objectType: 'team', parameters: { team_id: teamId } });
    const row = await audit.run(async (trx) => {
      // Only those who may see archived teams (system admins) can find one to restore.
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      authorize(actor, 'manage_team', resource);
      const [restored] = (await trx('teams').where({ id: team.id }).update({ delete_at: 0, update_at: nowMs() }).returning('*')) as TeamRow[];
      return restored;
    });
    events.publish({ event: 'restore_team', data: { team: JSON.stringify(presentTeam(row, false)) }, broadcast: { team_id: row.id } });
    sendJson(ctx, 200, presentTeam(row, true));
  });

  return router;
}
