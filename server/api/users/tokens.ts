import { Router } from '@koa/router';
import { z } from 'zod';
import * as tokens from '../../bots/access-tokens.ts';
import { presentAccessToken } from '../../bots/model.ts';
import type { SessionsEnded } from '../../bots/service.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { userIdParam } from './routes.ts';
import { pagingQuery, tokenIdBody } from './schema.ts';

// Mattermost requires a description: it is how people tell their tokens apart.
const createTokenBody = z.object({ description: z.string().trim().min(1, 'is required').max(255) });

/** Closes the live WebSocket connections of ended sessions at once. */
export function sessionsEnded(services: Services): SessionsEnded {
  return (ids) => {
    for (const id of ids) services.realtime.disconnectSession(id);
  };
}

/** Personal access tokens: /users/{user_id}/tokens and /users/tokens/... */
export function userTokenRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const ended = sessionsEnded(services);
  const router = new Router<AppState>();

  router.post('/users/:user_id/tokens', kit.auth, kit.body(createTokenBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = userIdParam(ctx.params, actor);
    const { description } = bodyOf(createTokenBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_user_access_token', { objectType: 'user_access_token', parameters: { user_id: userId, description } });
    const { row, token } = await audit.run(async (trx) => {
      const created = await tokens.createAccessToken(trx, actor, userId, description);
      audit.result({ token_id: created.row.id });
      return created;
    });
    sendJson(ctx, 200, presentAccessToken(row, token));
  });

  router.get('/users/:user_id/tokens', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    const rows = await tokens.listAccessTokens(db, actor, userIdParam(ctx.params, actor), page, per_page);
    sendJson(ctx, 200, rows.map((r) => presentAccessToken(r)));
  });

  // Registered before the users router: /users/:user_id would otherwise take /users/tokens.
  router.get('/users/tokens', kit.auth, async (ctx) => {
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    sendJson(ctx, 200, (await tokens.listAllAccessTokens(db, actorOf(ctx.state), page, per_page)).map((r) => presentAccessToken(r)));
  });

  router.get('/users/tokens/:token_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentAccessToken(await tokens.getAccessToken(db, actorOf(ctx.state), idParam(ctx.params, 'token_id'))));
  });

  router.post('/users/tokens/revoke', kit.auth, kit.body(tokenIdBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const { token_id } = bodyOf(tokenIdBody, ctx.state);
    const audit = openAudit(services, ctx, 'revoke_user_access_token', { objectType: 'user_access_token', parameters: { token_id } });
    await audit.run((trx, afterCommit) => tokens.revokeAccessToken(trx, afterCommit, actor, token_id, ended));
    sendOk(ctx);
  });

  for (const [path, active] of [['disable', false], ['enable', true]] as const) {
    router.post(`/users/tokens/${path}`, kit.auth, kit.body(tokenIdBody), async (ctx) => {
      const actor = actorOf(ctx.state);
      const { token_id } = bodyOf(tokenIdBody, ctx.state);
      const audit = openAudit(services, ctx, `${path}_user_access_token`, { objectType: 'user_access_token', parameters: { token_id } });
      await audit.run((trx, afterCommit) => tokens.setAccessTokenActive(trx, afterCommit, actor, token_id, active, ended));
      sendOk(ctx);
    });
  }

  return router;
}
