import { Router } from '@koa/router';
import {
  caseSearches, createCase, deleteCase, deleteSavedSearch, listCases, loadCase, loadSavedSearch, patchCase, presentCase, presentSavedSearch, recordSearchRun,
  savedRequest, saveSearch,
} from '../../../compliance/ediscovery/cases.ts';
import { caseExportJob } from '../../../compliance/ediscovery/export/job.ts';
import { ediscoverySearch } from '../../../compliance/ediscovery/search.ts';
import { searchIndexOf } from '../../search/active-index.ts';
import { createJob, presentJob } from '../../../retention-jobs/index.ts';
import { InvalidInputError } from '../../lib/errors.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/**
 * eDiscovery for the compliance role: search everything (every search is audited with its query,
 * scope and result count), and cases that group saved searches.
 */
export function ediscoveryRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/ediscovery/search', kit.auth, kit.body(schema.searchBody), async (ctx) => {
    const { page, per_page, case_id, ...request } = bodyOf(schema.searchBody, ctx.state);
    const audit = openAudit(services, ctx, 'ediscovery_search', { objectType: 'ediscovery', parameters: { ...request, page, per_page, case_id } });
    const result = await audit.run(async (trx) => {
      const actor = actorOf(ctx.state);
      if (case_id) await loadCase(trx, actor, case_id);
      const found = await ediscoverySearch(trx, actor, request, { page, perPage: per_page }, searchIndexOf(services));
      audit.result({ total_count: found.total_count, returned: found.results.length });
      return found;
    });
    sendJson(ctx, 200, result);
  });

  router.get('/ediscovery/cases', kit.auth, async (ctx) => {
    const q = queryOf(schema.pageQuery, ctx.query);
    sendJson(ctx, 200, (await listCases(db, actorOf(ctx.state), q.page, q.per_page)).map((c) => presentCase(c)));
  });

  router.post('/ediscovery/cases', kit.auth, kit.body(schema.createCaseBody), async (ctx) => {
    const body = bodyOf(schema.createCaseBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_ediscovery_case', { objectType: 'ediscovery_case', parameters: body });
    const row = await audit.run(async (trx) => {
      const created = await createCase(trx, actorOf(ctx.state), body);
      audit.result({ case_id: created.id });
      return created;
    });
    sendJson(ctx, 201, presentCase(row));
  });

  router.get('/ediscovery/cases/:case_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const caseId = idParam(ctx.params, 'case_id');
    const row = await loadCase(db, actor, caseId);
    sendJson(ctx, 200, presentCase(row, await caseSearches(db, actor, caseId)));
  });

  router.patch('/ediscovery/cases/:case_id', kit.auth, kit.body(schema.patchCaseBody), async (ctx) => {
    const caseId = idParam(ctx.params, 'case_id');
    const body = bodyOf(schema.patchCaseBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_ediscovery_case', { objectType: 'ediscovery_case', parameters: { case_id: caseId, ...body } });
    const row = await audit.run((trx) => patchCase(trx, actorOf(ctx.state), caseId, body));
    sendJson(ctx, 200, presentCase(row));
  });

  router.delete('/ediscovery/cases/:case_id', kit.auth, async (ctx) => {
    const caseId = idParam(ctx.params, 'case_id');
    const audit = openAudit(services, ctx, 'delete_ediscovery_case', { objectType: 'ediscovery_case', parameters: { case_id: caseId } });
    await audit.run((trx) => deleteCase(trx, actorOf(ctx.state), caseId));
    sendOk(ctx);
  });

  router.get('/ediscovery/cases/:case_id/searches', kit.auth, async (ctx) => {
    sendJson(ctx, 200, (await caseSearches(db, actorOf(ctx.state), idParam(ctx.params, 'case_id'))).map(presentSavedSearch));
  });

  router.post('/ediscovery/cases/:case_id/searches', kit.auth, kit.body(schema.saveSearchBody), async (ctx) => {
    const caseId = idParam(ctx.params, 'case_id');
    const body = bodyOf(schema.saveSearchBody, ctx.state);
    const audit = openAudit(services, ctx, 'save_ediscovery_search', { objectType: 'ediscovery_case', parameters: { case_id: caseId, ...body } });
    const row = await audit.run(async (trx) => {
      const saved = await saveSearch(trx, actorOf(ctx.state), caseId, body);
      audit.result({ search_id: saved.id });
      return saved;
    });
    sendJson(ctx, 201, presentSavedSearch(row));
  });

  router.delete('/ediscovery/cases/:case_id/searches/:search_id', kit.auth, async (ctx) => {
    const caseId = idParam(ctx.params, 'case_id');
    const searchId = idParam(ctx.params, 'search_id');
    const audit = openAudit(services, ctx, 'delete_ediscovery_search', { objectType: 'ediscovery_case', parameters: { case_id: caseId, search_id: searchId } });
    await audit.run((trx) => deleteSavedSearch(trx, actorOf(ctx.state), caseId, searchId));
    sendOk(ctx);
  });

  router.post('/ediscovery/cases/:case_id/searches/:search_id/run', kit.auth, kit.body(schema.runBody), async (ctx) => {
    const caseId = idParam(ctx.params, 'case_id');
    const searchId = idParam(ctx.params, 'search_id');
    const { page, per_page } = bodyOf(schema.runBody, ctx.state);
    const audit = openAudit(services, ctx, 'ediscovery_search', { objectType: 'ediscovery', parameters: { case_id: caseId, saved_search_id: searchId, page, per_page } });
    const result = await audit.run(async (trx) => {
      const actor = actorOf(ctx.state);
      const saved = await loadSavedSearch(trx, actor, caseId, searchId);
      const request = savedRequest(saved);
      audit.param({ ...request });
      const found = await ediscoverySearch(trx, actor, request, { page, perPage: per_page }, searchIndexOf(services));
      await recordSearchRun(trx, searchId, found.total_count);
      audit.result({ total_count: found.total_count, returned: found.results.length });
      return found;
    });
    sendJson(ctx, 200, result);
  });

  router.post('/ediscovery/cases/:case_id/exports', kit.auth, kit.body(schema.exportBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const caseId = idParam(ctx.params, 'case_id');
    const body = bodyOf(schema.exportBody, ctx.state);
    const row = await loadCase(db, actor, caseId);
    const holdId = body.search_id ? undefined : (body.hold_id ?? row.hold_id ?? undefined);
    if (!body.search_id && !holdId) throw new InvalidInputError('api.ediscovery.export.scope.app_error', 'Name a saved search of the case or a legal hold (the case has none).');
    const data: Record<string, string> = { case_id: caseId, ...(body.search_id ? { search_id: body.search_id } : { hold_id: holdId! }), ...(body.docid_prefix ? { docid_prefix: body.docid_prefix } : {}) };
    const job = await createJob(services, new Map([[caseExportJob.type, caseExportJob]]), actor, { type: caseExportJob.type, data });
    sendJson(ctx, 201, presentJob(job));
  });

  return router;
}
