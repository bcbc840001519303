import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { inOneStatement, inTransaction } from '../../db/transaction.ts';
import { presentDraft } from '../../drafts/model.ts';
import { deleteDraft, draftSchema, listDrafts, upsertDraft } from '../../drafts/service.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { idParam, routeKit } from '../kit.ts';
import { ownUserParam } from '../own-user.ts';
import { loadTeamAccess } from '../teams/routes.ts';

/** Drafts synced between a user's devices; each user sees and changes only their own. */
export function draftRoutes(services: Services): Router<AppState> {
  const { db, events } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/drafts', kit.auth, kit.body(draftSchema), async (ctx) => {
    const actor = actorOf(ctx.state);
    const input = bodyOf(draftSchema, ctx.state);
    const draft = await inTransaction(db, (trx, afterCommit) => upsertDraft(trx, events, afterCommit, actor, input));
    sendJson(ctx, 201, draft ? presentDraft(draft) : null);
  });

  router.get('/users/:user_id/teams/:team_id/drafts', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    ownUserParam(ctx.params, actor);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'view_team', resource);
    sendJson(ctx, 200, (await listDrafts(db, actor, team.id)).map(presentDraft));
  });

  for (const path of ['/users/:user_id/channels/:channel_id/drafts', '/users/:user_id/channels/:channel_id/drafts/:root_id']) {
    router.delete(path, kit.auth, async (ctx) => {
      const actor = actorOf(ctx.state);
      ownUserParam(ctx.params, actor);
      const channelId = idParam(ctx.params, 'channel_id');
      const rootId = ctx.params.root_id === undefined ? '' : idParam(ctx.params, 'root_id');
      await inOneStatement(db, (exec, afterCommit) => deleteDraft(exec, events, afterCommit, actor, channelId, rootId));
      sendOk(ctx);
    });
  }

  return router;
}
