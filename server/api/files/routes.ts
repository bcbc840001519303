import { Router } from '@koa/router';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { parseOrThrow } from '../../http/validate.ts';
import { InvalidInputError, invalidParam, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../lib/errors.ts';
import { isPreviewable, presentFileInfo } from '../../files/presenter.ts';
import { authorizeUpload, discardStaged, getFileInfo, recordFiles, stageFile, type FileDeps, type StagedFile } from '../../files/service.ts';
import type { Services } from '../../services.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { sendFileContent } from './content.ts';
import { readMultipart } from './multipart.ts';
import * as schema from './schema.ts';

/** Room for multipart boundaries, headers and fields on top of the files themselves. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

export function fileRoutes(services: Services): Router<AppState> {
  const { db, config } = services;
  const deps: FileDeps = { db, store: services.files, maxFileBytes: config.maxFileBytes };
  const kit = routeKit(services);
  const router = new Router<AppState>();

  /**
   * `POST /files`: multipart with `channel_id` (field, before or after the files, or query) and one or
   * more `files` parts. Each file streams to storage under the size limit; rows are written only once the
   * whole body arrived and the upload permission holds, and every stored file is removed otherwise.
   */
  router.post('/files', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
    if (type !== 'multipart/form-data') {
      throw new UnsupportedMediaTypeError('api.file.upload_file.incorrect_content_type.app_error', `Expected a multipart/form-data body, got ${type || 'none'}.`);
    }
    const declared = Number(ctx.get('Content-Length') || NaN);
    if (declared > config.maxFileBytes * schema.MAX_FILES_PER_REQUEST + MULTIPART_OVERHEAD_BYTES) {
      throw new PayloadTooLargeError('api.file.upload_file.too_large_detailed.app_error', `The upload is larger than ${schema.MAX_FILES_PER_REQUEST} files of ${config.maxFileBytes} bytes.`);
    }
    let channelId = queryOf(schema.uploadQuery, ctx.query).channel_id;
    // Known up front: refuse before reading a byte of the body.
    if (channelId) await authorizeUpload(db, actor, channelId);
    let permission: Promise<void> | undefined = channelId ? Promise.resolve() : undefined;

    // Slots keep the files in body order although their writes may finish out of order.
    const slots: (StagedFile | undefined)[] = [];
    const staged = () => slots.filter((f): f is StagedFile => f !== undefined);
    const clientIds: string[] = [];
    try {
      await readMultipart(ctx.req, { files: schema.MAX_FILES_PER_REQUEST, fields: schema.MAX_FIELDS_PER_REQUEST, fieldBytes: schema.MAX_FIELD_BYTES }, {
        field(name, value) {
          if (name === 'channel_id') {
            const fieldChannel = parseOrThrow(schema.channelIdField, value, 'channel_id');
            if (channelId && channelId !== fieldChannel) throw invalidParam('channel_id', 'the request names two different channels');
            if (!permission) {
              channelId = fieldChannel;
              permission = authorizeUpload(db, actor, fieldChannel);
              permission.catch(() => undefined); // awaited by the next file part or after the body
            }
          } else if (name === 'client_ids') {
            clientIds.push(parseOrThrow(schema.clientIdField, value, 'client_ids'));
          }
        },
        async file(name, stream, info) {
          if (name !== 'files') {
            stream.resume();
            return;
          }
          // Once the channel is known a refused upload stops here; files sent before it are checked at the end.
          const slot = slots.push(undefined) - 1;
          if (permission) await permission;
          slots[slot] = await stageFile(deps, actor, info.filename, stream);
        },
      });
      if (!channelId) throw invalidParam('channel_id');
      const files = staged();
      if (files.length === 0) throw new InvalidInputError('api.file.upload_file.no_files.app_error', 'The request has no files (multipart field "files").');
      if (clientIds.length > 0 && clientIds.length !== files.length) throw invalidParam('client_ids', 'one client id per file');
      await permission;
      const rows = await recordFiles(db, actor, channelId, files);
      sendJson(ctx, 201, { file_infos: rows.map(presentFileInfo), client_ids: clientIds });
    } catch (err) {
      await discardStaged(deps.store, staged());
      throw err;
    }
  });

  router.get('/files/:file_id', kit.auth, async (ctx) => {
    const row = await getFileInfo(db, actorOf(ctx.state), idParam(ctx.params, 'file_id'));
    await sendFileContent(ctx, deps.store, row, { forceDownload: queryOf(schema.downloadQuery, ctx.query).download });
  });

  router.get('/files/:file_id/info', kit.auth, async (ctx) => {
    const row = await getFileInfo(db, actorOf(ctx.state), idParam(ctx.params, 'file_id'));
    sendJson(ctx, 200, presentFileInfo(row));
  });

  // Custodian renders no scaled copies: an image is its own thumbnail and preview.
  for (const variant of ['thumbnail', 'preview'] as const) {
    router.get(`/files/:file_id/${variant}`, kit.auth, async (ctx) => {
      const row = await getFileInfo(db, actorOf(ctx.state), idParam(ctx.params, 'file_id'));
      if (!isPreviewable(row)) throw new InvalidInputError(`api.file.get_file_${variant}.no_${variant}.app_error`, `The file has no ${variant}.`);
      await sendFileContent(ctx, deps.store, row, { forceDownload: queryOf(schema.downloadQuery, ctx.query).download });
    });
  }

  return router;
}
