import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { nowMs } from '../../lib/clock.ts';
import { NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { routeKit } from '../kit.ts';

const RECENT_RUNS = 10;

interface SyncRunRow {
  id: string;
  trigger: string;
  node_id: string;
  status: string;
  start_at: string | number;
  finish_at: string | number;
  counts: Record<string, number>;
  error: string;
}

/**
 * `GET /ldap/sync/status`: the latest directory sync runs, newest first, with their counts and error,
 * and whether one is running now. A run left `running` by a node that died is reported as such only
 * while that node's lease lasts.
 */
export function ldapSyncStatusRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/ldap/sync/status', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'sync_directory', { kind: 'system' });
    if (!services.identity.ldap) throw new NotFoundError('api.ldap.not_enabled.app_error', 'LDAP is not configured on this server.');
    const { db } = services;
    const lease = await db('identity_sync_leases').where({ source: 'ldap' }).first('lease_until', 'last_success_at');
    const leaseHeld = Number(lease?.lease_until ?? 0) > nowMs();
    const rows = (await db('identity_sync_runs').where({ source: 'ldap' }).orderBy('start_at', 'desc').limit(RECENT_RUNS)) as SyncRunRow[];
    const runs = rows.map((r) => ({
      id: r.id, trigger: r.trigger, node_id: r.node_id,
      status: r.status === 'running' && !leaseHeld ? 'abandoned' : r.status,
      start_at: Number(r.start_at), finish_at: Number(r.finish_at), counts: r.counts, error: r.error,
    }));
    sendJson(ctx, 200, {
      running: leaseHeld,
      last_success_at: Number(lease?.last_success_at ?? 0),
      sync_interval_minutes: services.config.ldapSyncIntervalMinutes,
      runs,
    });
  });

  return router;
}
