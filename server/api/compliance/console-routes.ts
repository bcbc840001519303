import { Router } from '@koa/router';
import { searchDirectory } from '../../../compliance/console/directory.ts';
import { verifyJobExport } from '../../../compliance/console/verify-job.ts';
import type { JobTypes } from '../../../retention-jobs/index.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './console-schema.ts';

/**
 * Custodian's additions for the compliance console: a directory for its pickers (users, channels in
 * every team, teams, groups) and the server-side verification of an export job's signed manifests.
 */
export function complianceConsoleRoutes(services: Services, types: JobTypes): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/compliance/directory', kit.auth, async (ctx) => {
    const q = queryOf(schema.directoryQuery, ctx.query);
    sendJson(ctx, 200, await searchDirectory(services.db, actorOf(ctx.state), q.ids ? { ids: q.ids } : { term: q.term! }));
  });

  router.get('/compliance/exports/:job_id/verification', kit.auth, async (ctx) => {
    sendJson(ctx, 200, await verifyJobExport(services, types, actorOf(ctx.state), idParam(ctx.params, 'job_id')));
  });

  return router;
}
