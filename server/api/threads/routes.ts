import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { inOneStatement, inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { parseOrThrow } from '../../http/validate.ts';
import { NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { listUserThreads, loadUserThread, userThreadTotals } from '../../threads/queries.ts';
import { loadThreadAccess, markAllThreadsRead, markThreadRead, presentUserThreads, setFollowing, unreadFrom } from '../../threads/service.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { ownUserParam } from '../own-user.ts';
import { loadTeamAccess } from '../teams/routes.ts';
import * as schema from './schema.ts';

/** Collapsed reply threads: the threads a user follows, their unread counts and read positions. */
export function threadRoutes(services: Services): Router<AppState> {
  const { db, events } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();
  const base = '/users/:user_id/teams/:team_id/threads';

  /** The caller (acting on their own threads) and the team, which they must be able to see. */
  const caller = async (params: Record<string, string>, state: AppState) => {
    const actor = actorOf(state);
    ownUserParam(params, actor);
    const teamId = idParam(params, 'team_id');
    authorize(actor, 'view_team', (await loadTeamAccess(db, actor, teamId)).resource);
    return { actor, teamId };
  };

  router.get(base, kit.auth, async (ctx) => {
    const { actor, teamId } = await caller(ctx.params, ctx.state);
    const q = queryOf(schema.threadsQuery, ctx.query);
    const [rows, totals] = await Promise.all([
      q.totalsOnly ? [] : listUserThreads(db, actor.userId, teamId, { perPage: q.per_page, since: q.since, before: q.before, after: q.after, deleted: q.deleted, unread: q.unread }),
      q.threadsOnly ? { total: 0, total_unread_threads: 0, total_unread_mentions: 0 } : userThreadTotals(db, actor.userId, teamId, q.deleted),
    ]);
    // As in Mattermost: listing unread threads, the total is the unread total.
    if (q.unread) totals.total = totals.total_unread_threads;
    sendJson(ctx, 200, { ...totals, total_unread_urgent_mentions: 0, threads: await presentUserThreads(db, actor, rows, q.extended) });
  });

  router.put(`${base}/read`, kit.auth, async (ctx) => {
    const { actor, teamId } = await caller(ctx.params, ctx.state);
    await inOneStatement(db, (exec, afterCommit) => markAllThreadsRead(exec, events, afterCommit, actor, teamId));
    sendOk(ctx);
  });

  router.get(`${base}/:thread_id`, kit.auth, async (ctx) => {
    const { actor, teamId } = await caller(ctx.params, ctx.state);
    const { extended } = queryOf(schema.threadQuery, ctx.query);
    const thread = await loadThreadAccess(db, actor, teamId, idParam(ctx.params, 'thread_id'));
    const row = await loadUserThread(db, actor.userId, teamId, thread.root.id);
    if (!row) throw new NotFoundError('app.user.get_threads_for_user.not_found', 'Thread not found or not followed.');
    sendJson(ctx, 200, (await presentUserThreads(db, actor, [row], extended))[0]);
  });

  for (const [method, state] of [['put', true], ['delete', false]] as const) {
    router[method](`${base}/:thread_id/following`, kit.auth, async (ctx) => {
      const { actor, teamId } = await caller(ctx.params, ctx.state);
      const thread = await loadThreadAccess(db, actor, teamId, idParam(ctx.params, 'thread_id'));
      await inOneStatement(db, (exec, afterCommit) => setFollowing(exec, events, afterCommit, actor, teamId, thread, state));
      sendOk(ctx);
    });
  }

  router.put(`${base}/:thread_id/read/:timestamp`, kit.auth, async (ctx) => {
    const { actor, teamId } = await caller(ctx.params, ctx.state);
    const timestamp = parseOrThrow(schema.timestampParam, ctx.params.timestamp, 'timestamp');
    const thread = await loadThreadAccess(db, actor, teamId, idParam(ctx.params, 'thread_id'));
    const row = await inTransaction(db, (trx, afterCommit) => markThreadRead(trx, events, afterCommit, actor, teamId, thread, timestamp));
    sendJson(ctx, 200, (await presentUserThreads(db, actor, [row], false))[0]);
  });

  router.post(`${base}/:thread_id/set_unread/:post_id`, kit.auth, async (ctx) => {
    const { actor, teamId } = await caller(ctx.params, ctx.state);
    const thread = await loadThreadAccess(db, actor, teamId, idParam(ctx.params, 'thread_id'));
    const timestamp = await unreadFrom(db, thread, idParam(ctx.params, 'post_id'));
    const row = await inTransaction(db, (trx, afterCommit) => markThreadRead(trx, events, afterCommit, actor, teamId, thread, timestamp));
    sendJson(ctx, 200, (await presentUserThreads(db, actor, [row], false))[0]);
  });

  return router;
}
