import { Router } from '@koa/router';
import { createReport, getReport, listReports, presentReport, reportDownload } from '../../../compliance/index.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { sendDownload } from '../jobs/routes.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** Mattermost's legacy compliance reports: ad-hoc searches run as jobs and downloaded as zips. */
export function complianceRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/compliance/reports', kit.auth, kit.body(schema.createReportBody), async (ctx) => {
    const report = await createReport(services, actorOf(ctx.state), bodyOf(schema.createReportBody, ctx.state));
    sendJson(ctx, 201, presentReport(report));
  });

  router.get('/compliance/reports', kit.auth, async (ctx) => {
    const q = queryOf(schema.listReportsQuery, ctx.query);
    sendJson(ctx, 200, (await listReports(db, actorOf(ctx.state), q.page, q.per_page)).map(presentReport));
  });

  router.get('/compliance/reports/:report_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentReport(await getReport(db, actorOf(ctx.state), idParam(ctx.params, 'report_id'))));
  });

  router.get('/compliance/reports/:report_id/download', kit.auth, async (ctx) => {
    await sendDownload(ctx, await reportDownload(services, actorOf(ctx.state), idParam(ctx.params, 'report_id')));
  });

  return router;
}
