import { Router } from '@koa/router';
import {
  changePolicyTargets, createPolicy, deletePolicy, getGlobalPolicy, getPolicy, listPolicies, patchPolicy, policyChannels, policyTeams,
  presentGlobalPolicy, presentPolicy, previewRetention, setGlobalPolicy, userChannelPolicies, userTeamPolicies,
} from '../../../retention-jobs/retention/index.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { nowMs } from '../../lib/clock.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** Mattermost's `/data_retention` API (global and custom policies), Custodian's PUT of the global policy, and the preview. */
export function dataRetentionRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/data_retention/policy', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentGlobalPolicy(await getGlobalPolicy(db, actorOf(ctx.state))));
  });

  router.put('/data_retention/policy', kit.auth, kit.body(schema.globalPolicyBody), async (ctx) => {
    const body = bodyOf(schema.globalPolicyBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_data_retention_global_policy', { objectType: 'data_retention_policy', parameters: body });
    const { after } = await audit.run(async (trx) => {
      const change = await setGlobalPolicy(trx, actorOf(ctx.state), body);
      audit.prior({ ...change.before }).result({ ...change.after });
      return change;
    });
    sendJson(ctx, 200, presentGlobalPolicy(after));
  });

  router.get('/data_retention/policies', kit.auth, async (ctx) => {
    const q = queryOf(schema.pageQuery, ctx.query);
    const { policies, total_count } = await listPolicies(db, actorOf(ctx.state), q.page, q.per_page);
    sendJson(ctx, 200, { policies: policies.map(presentPolicy), total_count });
  });

  router.post('/data_retention/policies', kit.auth, kit.body(schema.createPolicyBody), async (ctx) => {
    const body = bodyOf(schema.createPolicyBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_data_retention_policy', { objectType: 'data_retention_policy', parameters: body });
    const policy = await audit.run(async (trx) => {
      const created = await createPolicy(trx, actorOf(ctx.state), body);
      audit.result({ policy_id: created.id });
      return created;
    });
    sendJson(ctx, 201, presentPolicy(policy));
  });

  router.get('/data_retention/policies/:policy_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentPolicy(await getPolicy(db, actorOf(ctx.state), idParam(ctx.params, 'policy_id'))));
  });

  router.patch('/data_retention/policies/:policy_id', kit.auth, kit.body(schema.patchPolicyBody), async (ctx) => {
    const policyId = idParam(ctx.params, 'policy_id');
    const body = bodyOf(schema.patchPolicyBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_data_retention_policy', { objectType: 'data_retention_policy', parameters: { policy_id: policyId, ...body } });
    const { after } = await audit.run(async (trx) => {
      const change = await patchPolicy(trx, actorOf(ctx.state), policyId, body);
      audit.prior(presentPolicy(change.before)).result(presentPolicy(change.after));
      return change;
    });
    sendJson(ctx, 200, presentPolicy(after));
  });

  router.delete('/data_retention/policies/:policy_id', kit.auth, async (ctx) => {
    const policyId = idParam(ctx.params, 'policy_id');
    const audit = openAudit(services, ctx, 'delete_data_retention_policy', { objectType: 'data_retention_policy', parameters: { policy_id: policyId } });
    await audit.run(async (trx) => audit.prior(presentPolicy(await deletePolicy(trx, actorOf(ctx.state), policyId))));
    sendOk(ctx);
  });

  for (const kind of ['teams', 'channels'] as const) {
    router.get(`/data_retention/policies/:policy_id/${kind}`, kit.auth, async (ctx) => {
      const q = queryOf(schema.pageQuery, ctx.query);
      const options = { page: q.page, perPage: q.per_page };
      const policyId = idParam(ctx.params, 'policy_id');
      const actor = actorOf(ctx.state);
      sendJson(ctx, 200, kind === 'teams' ? await policyTeams(db, actor, policyId, options) : await policyChannels(db, actor, policyId, options));
    });

    router.post(`/data_retention/policies/:policy_id/${kind}/search`, kit.auth, kit.body(schema.searchBody), async (ctx) => {
      const options = { page: 0, perPage: 200, term: bodyOf(schema.searchBody, ctx.state).term };
      const policyId = idParam(ctx.params, 'policy_id');
      const actor = actorOf(ctx.state);
      sendJson(ctx, 200, kind === 'teams' ? await policyTeams(db, actor, policyId, options) : (await policyChannels(db, actor, policyId, options)).channels);
    });

    for (const [method, change] of [['post', 'add'], ['delete', 'remove']] as const) {
      router[method](`/data_retention/policies/:policy_id/${kind}`, kit.auth, kit.body(schema.idList), async (ctx) => {
        const policyId = idParam(ctx.params, 'policy_id');
        const ids = bodyOf(schema.idList, ctx.state);
        const audit = openAudit(services, ctx, `${change}_data_retention_policy_${kind}`, { objectType: 'data_retention_policy', parameters: { policy_id: policyId, [`${kind.slice(0, -1)}_ids`]: ids } });
        await audit.run((trx) => changePolicyTargets(trx, actorOf(ctx.state), policyId, kind, change, ids));
        sendOk(ctx);
      });
    }
  }

  router.get('/users/:user_id/data_retention/team_policies', kit.auth, async (ctx) => {
    const q = queryOf(schema.pageQuery, ctx.query);
    sendJson(ctx, 200, await userTeamPolicies(db, actorOf(ctx.state), idParam(ctx.params, 'user_id'), q.page, q.per_page));
  });

  router.get('/users/:user_id/data_retention/channel_policies', kit.auth, async (ctx) => {
    const q = queryOf(schema.pageQuery, ctx.query);
    sendJson(ctx, 200, await userChannelPolicies(db, actorOf(ctx.state), idParam(ctx.params, 'user_id'), q.page, q.per_page));
  });

  router.post('/data_retention/preview', kit.auth, kit.body(schema.previewBody), async (ctx) => {
    const body = bodyOf(schema.previewBody, ctx.state);
    sendJson(ctx, 200, await previewRetention(db, actorOf(ctx.state), body, nowMs()));
  });

  return router;
}
