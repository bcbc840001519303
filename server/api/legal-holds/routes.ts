import { Router } from '@koa/router';
import { createHold, getHold, listHolds, patchHold, releaseHold } from '../../../compliance/holds/service.ts';
import { openAudit } from '../audited.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** `/legal_holds`: create, list, read (with every version), change (a new version) and release. */
export function legalHoldRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/legal_holds', kit.auth, kit.body(schema.createHoldBody), async (ctx) => {
    const body = bodyOf(schema.createHoldBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_legal_hold', { objectType: 'legal_hold', parameters: body });
    const hold = await audit.run(async (trx) => {
      const created = await createHold(trx, actorOf(ctx.state), body);
      audit.result({ hold_id: created.id, version: created.version });
      return created;
    });
    sendJson(ctx, 201, hold);
  });

  router.get('/legal_holds', kit.auth, async (ctx) => {
    const q = queryOf(schema.listHoldsQuery, ctx.query);
    sendJson(ctx, 200, await listHolds(db, actorOf(ctx.state), { page: q.page, perPage: q.per_page, includeReleased: q.include_released }));
  });

  router.get('/legal_holds/:hold_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, await getHold(db, actorOf(ctx.state), idParam(ctx.params, 'hold_id')));
  });

  router.patch('/legal_holds/:hold_id', kit.auth, kit.body(schema.patchHoldBody), async (ctx) => {
    const holdId = idParam(ctx.params, 'hold_id');
    const body = bodyOf(schema.patchHoldBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_legal_hold', { objectType: 'legal_hold', parameters: { hold_id: holdId, ...body } });
    const hold = await audit.run(async (trx) => {
      const changed = await patchHold(trx, actorOf(ctx.state), holdId, body);
      audit.result({ version: changed.version });
      return changed;
    });
    sendJson(ctx, 200, hold);
  });

  router.post('/legal_holds/:hold_id/release', kit.auth, kit.body(schema.releaseHoldBody), async (ctx) => {
    const holdId = idParam(ctx.params, 'hold_id');
    const body = bodyOf(schema.releaseHoldBody, ctx.state);
    const audit = openAudit(services, ctx, 'release_legal_hold', { objectType: 'legal_hold', parameters: { hold_id: holdId, ...body } });
    const hold = await audit.run(async (trx) => {
      const released = await releaseHold(trx, actorOf(ctx.state), holdId, body.comment);
      audit.result({ version: released.version, released_at: released.released_at });
      return released;
    });
    sendJson(ctx, 200, hold);
  });

  return router;
}
