import { Router } from '@koa/router';
import type { Knex } from 'knex';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { version } from '../../lib/version.ts';

export interface SystemDeps {
  db: Knex;
  nodeId: string;
}

async function databaseHealthy(db: Knex): Promise<boolean> {
  try {
    await db.raw('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** `GET /system/ping`: liveness plus database health (503 when the database does not answer). */
export function systemRoutes(deps: SystemDeps): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/system/ping', async (ctx) => {
    const dbOk = await databaseHealthy(deps.db);
    const body: Record<string, unknown> = { status: dbOk ? 'OK' : 'UNHEALTHY', database_status: dbOk ? 'OK' : 'UNHEALTHY' };
    if (ctx.query.get_server_status === 'true') {
      Object.assign(body, { version, node_id: deps.nodeId, uptime_seconds: Math.round(process.uptime()) });
    }
    sendJson(ctx, dbOk ? 200 : 503, body);
  });
  return router;
}
