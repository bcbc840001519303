import { Router } from '@koa/router';
import type { Context } from 'koa';
import { cancelJob, createJob, getJob, jobDownload, listJobs, presentJob, type JobDownload, type JobTypes } from '../../../retention-jobs/index.ts';
import { actorOf } from '../../http/authenticate.ts';
import { writeError } from '../../http/middleware/error-handler.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf, parseOrThrow } from '../../http/validate.ts';
import type { Services } from '../../services.ts';
import { contentDisposition, parseRange } from '../files/content.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** Streams a job's file with byte ranges (206/416) and If-Range, so large exports can resume. */
export async function sendDownload(ctx: Context, file: JobDownload): Promise<void> {
  ctx.set({
    'X-Content-Type-Options': 'nosniff',
    'Content-Disposition': contentDisposition('attachment', file.name),
    'Cache-Control': 'private, no-cache',
    'Accept-Ranges': 'bytes',
    ETag: file.etag,
  });
  const ifRange = ctx.get('If-Range');
  const range = ifRange && ifRange !== file.etag ? undefined : parseRange(ctx.get('Range') || undefined, file.size);
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${file.size}`);
    writeError(ctx, 416, 'api.job.download.range_not_satisfiable.app_error', 'The requested range is outside the file.');
    return;
  }
  const stream = await file.open(range);
  ctx.status = range ? 206 : 200;
  ctx.body = stream;
  ctx.set('Content-Type', file.contentType);
  ctx.length = range ? range.end - range.start + 1 : file.size;
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
}

/** Mattermost's jobs API: create, list, get, cancel and download jobs, with permissions per job type. */
export function jobRoutes(services: Services, types: JobTypes): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/jobs', kit.auth, kit.body(schema.createJobBody), async (ctx) => {
    const body = bodyOf(schema.createJobBody, ctx.state);
    const job = await createJob(services, types, actorOf(ctx.state), { type: body.type, data: body.data });
    sendJson(ctx, 201, presentJob(job));
  });

  router.get('/jobs', kit.auth, async (ctx) => {
    const q = queryOf(schema.listJobsQuery, ctx.query);
    const rows = await listJobs(db, types, actorOf(ctx.state), { page: q.page, perPage: q.per_page, statuses: q.status });
    sendJson(ctx, 200, rows.map(presentJob));
  });

  router.get('/jobs/type/:type', kit.auth, async (ctx) => {
    const q = queryOf(schema.listJobsQuery, ctx.query);
    const type = parseOrThrow(schema.jobType, ctx.params.type, 'type');
    const rows = await listJobs(db, types, actorOf(ctx.state), { type, page: q.page, perPage: q.per_page, statuses: q.status });
    sendJson(ctx, 200, rows.map(presentJob));
  });

  router.get('/jobs/:job_id', kit.auth, async (ctx) => {
    sendJson(ctx, 200, presentJob(await getJob(db, types, actorOf(ctx.state), idParam(ctx.params, 'job_id'))));
  });

  router.post('/jobs/:job_id/cancel', kit.auth, async (ctx) => {
    await cancelJob(db, types, actorOf(ctx.state), idParam(ctx.params, 'job_id'));
    sendOk(ctx);
  });

  router.get('/jobs/:job_id/download', kit.auth, async (ctx) => {
    const { download } = await jobDownload(services, types, actorOf(ctx.state), idParam(ctx.params, 'job_id'));
    await sendDownload(ctx, download);
  });

  return router;
}
