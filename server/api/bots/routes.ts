import { Router } from '@koa/router';
import { presentBot } from '../../bots/model.ts';
import * as bots from '../../bots/service.ts';
import { inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { sessionsEnded } from '../users/tokens.ts';
import * as schema from './schema.ts';

/** Bots: /bots and /bots/{bot_user_id}. */
export function botRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const ended = sessionsEnded(services);
  const router = new Router<AppState>();

  router.post('/bots', kit.auth, kit.body(schema.createBotBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(schema.createBotBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_bot', { objectType: 'bot', parameters: body });
    const bot = await audit.run(async (trx) => {
      const created = await bots.createBot(trx, actor, body);
      audit.result({ bot_user_id: created.user_id });
      return created;
    });
    sendJson(ctx, 201, presentBot(bot));
  });

  router.get('/bots', kit.auth, async (ctx) => {
    const q = queryOf(schema.listBotsQuery, ctx.query);
    const rows = await bots.listBots(db, actorOf(ctx.state), { page: q.page, perPage: q.per_page, includeDeleted: q.include_deleted, onlyOrphaned: q.only_orphaned });
    sendJson(ctx, 200, rows.map(presentBot));
  });

  router.get('/bots/:bot_user_id', kit.auth, async (ctx) => {
    const { include_deleted } = queryOf(schema.getBotQuery, ctx.query);
    sendJson(ctx, 200, presentBot(await bots.getBot(db, actorOf(ctx.state), idParam(ctx.params, 'bot_user_id'), { includeDeleted: include_deleted })));
  });

  router.put('/bots/:bot_user_id', kit.auth, kit.body(schema.patchBotBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const botId = idParam(ctx.params, 'bot_user_id');
    const bot = await inTransaction(db, (trx, afterCommit) => bots.patchBot(trx, afterCommit, actor, botId, bodyOf(schema.patchBotBody, ctx.state)));
    sendJson(ctx, 200, presentBot(bot));
  });

  for (const [path, active] of [['disable', false], ['enable', true]] as const) {
    router.post(`/bots/:bot_user_id/${path}`, kit.auth, async (ctx) => {
      const actor = actorOf(ctx.state);
      const botId = idParam(ctx.params, 'bot_user_id');
      const audit = openAudit(services, ctx, `${path}_bot`, { objectType: 'bot', parameters: { bot_user_id: botId } });
      const bot = await audit.run((trx, afterCommit) => bots.setBotActive(trx, afterCommit, actor, botId, active, ended));
      sendJson(ctx, 200, presentBot(bot));
    });
  }

  router.post('/bots/:bot_user_id/assign/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const botId = idParam(ctx.params, 'bot_user_id');
    const ownerId = idParam(ctx.params, 'user_id');
    const audit = openAudit(services, ctx, 'assign_bot', { objectType: 'bot', parameters: { bot_user_id: botId, owner_id: ownerId } });
    sendJson(ctx, 200, presentBot(await audit.run((trx) => bots.assignBot(trx, actor, botId, ownerId))));
  });

  return router;
}
