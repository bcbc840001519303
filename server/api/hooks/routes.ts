import { Router } from '@koa/router';
import { inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { decodeUtf8, readRawBody } from '../../http/body.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { handleCommandWebhook } from '../../integrations/commands/webhooks.ts';
import * as incoming from '../../integrations/incoming-webhooks.ts';
import { parseIncomingPayload } from '../../integrations/incoming-payload.ts';
import { announceOutgoingHooksChanged } from '../../integrations/outgoing-hook-cache.ts';
import * as outgoing from '../../integrations/outgoing-webhooks.ts';
import type { PostDeps } from '../../posts/service.ts';
import type { Services } from '../../services.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** Webhook management: /hooks/incoming and /hooks/outgoing under /api/v4. */
export function hookRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/hooks/incoming', kit.auth, kit.body(schema.createIncomingBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const hook = await inTransaction(db, (trx) => incoming.createIncomingWebhook(trx, actor, bodyOf(schema.createIncomingBody, ctx.state)));
    sendJson(ctx, 201, incoming.presentIncomingWebhook(hook));
  });

  router.get('/hooks/incoming', kit.auth, async (ctx) => {
    const q = queryOf(schema.listIncomingQuery, ctx.query);
    const { rows, total } = await incoming.listIncomingWebhooks(db, actorOf(ctx.state), { teamId: q.team_id || undefined, page: q.page, perPage: q.per_page });
    const hooks = rows.map(incoming.presentIncomingWebhook);
    sendJson(ctx, 200, q.include_total_count === 'true' ? { incoming_webhooks: hooks, total_count: total } : hooks);
  });

  router.get('/hooks/incoming/:hook_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, incoming.presentIncomingWebhook(await incoming.getIncomingWebhook(db, actorOf(ctx.state), idParam(ctx.params, 'hook_id'))));
  });

  router.put('/hooks/incoming/:hook_id', kit.auth, kit.body(schema.updateIncomingBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const hookId = idParam(ctx.params, 'hook_id');
    const hook = await inTransaction(db, (trx) => incoming.updateIncomingWebhook(trx, actor, hookId, bodyOf(schema.updateIncomingBody, ctx.state)));
    // Mattermost answers an update of an incoming webhook with 201.
    sendJson(ctx, 201, incoming.presentIncomingWebhook(hook));
  });

  router.delete('/hooks/incoming/:hook_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const hookId = idParam(ctx.params, 'hook_id');
    await inTransaction(db, (trx) => incoming.deleteIncomingWebhook(trx, actor, hookId));
    sendOk(ctx);
  });

  router.post('/hooks/outgoing', kit.auth, kit.body(schema.createOutgoingBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const hook = await inTransaction(db, (trx) => outgoing.createOutgoingWebhook(trx, actor, bodyOf(schema.createOutgoingBody, ctx.state)));
    announceOutgoingHooksChanged(services.events, hook.team_id);
    sendJson(ctx, 201, outgoing.presentOutgoingWebhook(hook));
  });

  router.get('/hooks/outgoing', kit.auth, async (ctx) => {
    const q = queryOf(schema.listOutgoingQuery, ctx.query);
    const rows = await outgoing.listOutgoingWebhooks(db, actorOf(ctx.state), { channelId: q.channel_id || undefined, teamId: q.team_id || undefined, page: q.page, perPage: q.per_page });
    sendJson(ctx, 200, rows.map(outgoing.presentOutgoingWebhook));
  });

  router.get('/hooks/outgoing/:hook_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, outgoing.presentOutgoingWebhook(await outgoing.getOutgoingWebhook(db, actorOf(ctx.state), idParam(ctx.params, 'hook_id'))));
  });

  router.put('/hooks/outgoing/:hook_id', kit.auth, kit.body(schema.updateOutgoingBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const hookId = idParam(ctx.params, 'hook_id');
    const hook = await inTransaction(db, (trx) => outgoing.updateOutgoingWebhook(trx, actor, hookId, bodyOf(schema.updateOutgoingBody, ctx.state)));
    announceOutgoingHooksChanged(services.events, hook.team_id);
    sendJson(ctx, 200, outgoing.presentOutgoingWebhook(hook));
  });

  router.delete('/hooks/outgoing/:hook_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const hookId = idParam(ctx.params, 'hook_id');
    const deleted = await inTransaction(db, (trx) => outgoing.deleteOutgoingWebhook(trx, actor, hookId));
    announceOutgoingHooksChanged(services.events, deleted.team_id);
    sendOk(ctx);
  });

  router.post('/hooks/outgoing/:hook_id/regen_token', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const hookId = idParam(ctx.params, 'hook_id');
    const hook = await inTransaction(db, (trx) => outgoing.regenOutgoingWebhookToken(trx, actor, hookId));
    announceOutgoingHooksChanged(services.events, hook.team_id);
    sendJson(ctx, 200, outgoing.presentOutgoingWebhook(hook));
  });

  return router;
}

/**
 * The public webhook URLs, mounted at the site root (no session: the id is the secret): incoming
 * webhooks, POST /hooks/{hook_id}, and slash commands' response URLs, POST /hooks/commands/{id}.
 */
export function incomingWebhookRootRoutes(services: Services): Router<AppState> {
  const { db, events, config } = services;
  const deps: PostDeps = { events };
  const router = new Router<AppState>();

  router.post('/hooks/:hook_id', async (ctx) => {
    const body = await readRawBody(ctx, config.maxBodyBytes);
    const request = await parseIncomingPayload(body, ctx.get('Content-Type'), config.maxBodyBytes, ctx.query);
    await inTransaction(db, (trx, afterCommit) => incoming.handleIncomingWebhook(trx, deps, afterCommit, ctx.params.hook_id, request));
    ctx.status = 200;
    ctx.set('Content-Type', 'text/plain');
    ctx.body = 'ok';
  });

  router.post('/hooks/commands/:hook_id', async (ctx) => {
    const body = decodeUtf8(await readRawBody(ctx, config.maxBodyBytes));
    const mediaType = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
    await handleCommandWebhook({ db, events }, ctx.params.hook_id, mediaType, body);
    ctx.status = 200;
    ctx.set('Content-Type', 'text/plain');
    ctx.body = 'ok';
  });

  return router;
}
