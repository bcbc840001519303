import { Router } from '@koa/router';
import { authorize, can } from '../../auth/policy.ts';
import { inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { loadTeamResource } from '../../integrations/access.ts';
import { builtInCommands } from '../../integrations/commands/builtins.ts';
import { executeCommand } from '../../integrations/commands/execute.ts';
import { presentBuiltIn, presentCommand, presentCommandResponse } from '../../integrations/commands/model.ts';
import * as commands from '../../integrations/commands/service.ts';
import type { Services } from '../../services.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** Slash commands: custom command management and POST /commands/execute. */
export function commandRoutes(services: Services): Router<AppState> {
  const { db, events, logger, config } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/commands', kit.auth, kit.body(schema.createCommandBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const command = await inTransaction(db, (trx) => commands.createCommand(trx, actor, bodyOf(schema.createCommandBody, ctx.state)));
    sendJson(ctx, 201, presentCommand(command));
  });

  // Without custom_only: built-in commands plus the team's custom ones (in full for their managers,
  // otherwise only those offered in autocomplete, without secrets).
  router.get('/commands', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const q = queryOf(schema.listCommandsQuery, ctx.query);
    const { resource } = await loadTeamResource(db, actor, q.team_id);
    authorize(actor, 'view_team', resource);
    const manager = can(actor, 'manage_slash_commands', resource);
    if (q.custom_only) authorize(actor, 'manage_slash_commands', resource);
    const custom = await commands.teamCommands(db, q.team_id);
    const list = custom.filter((c) => manager || c.auto_complete).map((c) => presentCommand(c, !manager));
    if (!q.custom_only) {
      const taken = new Set(custom.map((c) => c.trigger));
      for (const builtIn of builtInCommands.values()) if (!taken.has(builtIn.trigger)) list.unshift(presentBuiltIn(builtIn));
    }
    sendJson(ctx, 200, list);
  });

  router.post('/commands/execute', kit.auth, kit.body(schema.executeBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const siteUrl = config.siteUrl;
    const response = await executeCommand({ db, events, logger, siteUrl }, actor, bodyOf(schema.executeBody, ctx.state));
    sendJson(ctx, 200, presentCommandResponse(response));
  });

  router.get('/commands/:command_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentCommand(await commands.getCommand(db, actorOf(ctx.state), idParam(ctx.params, 'command_id'))));
  });

  router.put('/commands/:command_id', kit.auth, kit.body(schema.updateCommandBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const commandId = idParam(ctx.params, 'command_id');
    const command = await inTransaction(db, (trx) => commands.updateCommand(trx, actor, commandId, bodyOf(schema.updateCommandBody, ctx.state)));
    sendJson(ctx, 200, presentCommand(command));
  });

  router.delete('/commands/:command_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const commandId = idParam(ctx.params, 'command_id');
    await inTransaction(db, (trx) => commands.deleteCommand(trx, actor, commandId));
    sendOk(ctx);
  });

  router.put('/commands/:command_id/regen_token', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const commandId = idParam(ctx.params, 'command_id');
    const command = await inTransaction(db, (trx) => commands.regenCommandToken(trx, actor, commandId));
    sendJson(ctx, 200, { token: command.token });
  });

  return router;
}
