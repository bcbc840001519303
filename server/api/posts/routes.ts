import { Router } from '@koa/router';
import { authorizeChannel } from '../../channels/access.ts';
import { ChannelAccessCache } from '../../channels/access-cache.ts';
import { inOneStatement, inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendJsonText, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf, parseOrThrow } from '../../http/validate.ts';
import { ForbiddenError, InvalidInputError } from '../../lib/errors.ts';
import { postColumns, presentPost, presentReaction, type PostRow, type ReactionRow } from '../../posts/model.ts';
import { buildPostList, channelPosts, loadMetadata, threadPosts, type FileInfoLoader } from '../../posts/queries.ts';
import { addReaction, removeReaction } from '../../posts/reactions.ts';
import { RecentPostsCache } from '../../posts/recent-cache.ts';
import { createPost, deletePost, loadPostAccess, mayReadHistory, patchPost, type PostDeps } from '../../posts/service.ts';
import type { Services } from '../../services.ts';
import { auditPrivilegedRead } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { userIdParam } from '../users/routes.ts';
import * as schema from './schema.ts';

export interface PostRouteDeps {
  attachFiles?: PostDeps['attachFiles'];
  loadFiles?: FileInfoLoader;
}

export function postRoutes(services: Services, fileDeps: PostRouteDeps = {}): Router<AppState> {
  const { db, events } = services;
  const deps: PostDeps = { events, attachFiles: fileDeps.attachFiles };
  const loadFiles = fileDeps.loadFiles;
  const recent = new RecentPostsCache(events);
  const accessCache = new ChannelAccessCache(events);
  const kit = routeKit(services);
  const router = new Router<AppState>();

  const present = async (row: PostRow) => presentPost(row, (await loadMetadata(db, [row.id], loadFiles)).get(row.id));

  router.post('/posts', kit.auth, kit.body(schema.createPostBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const input = bodyOf(schema.createPostBody, ctx.state);
    // The cached decision is re-checked by the insert itself (see createPost).
    const access = await accessCache.authorize(db, actor, input.channel_id, 'create_post');
    const run = input.file_ids.length ? inTransaction : inOneStatement;
    const post = await run(db, (exec, afterCommit) => createPost(exec, deps, afterCommit, actor, input, { access }));
    // A new post has no reactions yet; only attached files need loading.
    sendJson(ctx, 201, post.file_ids.length ? await present(post) : presentPost(post));
  });

  router.get('/channels/:channel_id/posts', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const access = await accessCache.authorize(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    const { channel } = access;
    const q = queryOf(schema.channelPostsQuery, ctx.query);
    await auditPrivilegedRead(services, ctx, access, { page: q.page, per_page: q.per_page, since: q.since, before: q.before, after: q.after });
    const load = async () => JSON.stringify(await channelPosts(db, channel.id, { page: q.page, perPage: q.per_page, since: q.since, before: q.before, after: q.after }, loadFiles));
    const newestPage = q.page === 0 && q.since === undefined && !q.before && !q.after;
    sendJsonText(ctx, 200, newestPage ? await recent.get(channel.id, String(q.per_page), load) : await load());
  });

  router.get('/channels/:channel_id/pinned', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const access = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    const { channel } = access;
    await auditPrivilegedRead(services, ctx, access, { pinned: true });
    const rows = (await db('posts').select(postColumns).where({ channel_id: channel.id, is_pinned: true, delete_at: 0 }).orderBy('create_at', 'desc').limit(200)) as PostRow[];
    sendJson(ctx, 200, await buildPostList(db, rows, {}, loadFiles));
  });

  router.post('/posts/ids', kit.auth, kit.body(schema.idList), async (ctx) => {
    const actor = actorOf(ctx.state);
    const rows = (await db('posts').select(postColumns).whereIn('id', bodyOf(schema.idList, ctx.state)).where({ delete_at: 0 })) as PostRow[];
    const readable: PostRow[] = [];
    for (const row of rows) {
      try {
        await authorizeChannel(db, actor, row.channel_id, 'read_channel');
        readable.push(row);
      } catch (err) {
        if (!(err instanceof ForbiddenError)) throw err;
      }
    }
    const meta = await loadMetadata(db, readable.map((r) => r.id), loadFiles);
    sendJson(ctx, 200, readable.map((r) => presentPost(r, meta.get(r.id))));
  });

  router.get('/posts/:post_id', kit.auth, async (ctx) => {
    const { post, access } = await loadPostAccess(db, actorOf(ctx.state), idParam(ctx.params, 'post_id'));
    await auditPrivilegedRead(services, ctx, access, { post_id: post.id });
    sendJson(ctx, 200, await present(post));
  });

  router.get('/posts/:post_id/thread', kit.auth, async (ctx) => {
    const { post, access } = await loadPostAccess(db, actorOf(ctx.state), idParam(ctx.params, 'post_id'));
    await auditPrivilegedRead(services, ctx, access, { post_id: post.id, thread: true });
    sendJson(ctx, 200, await threadPosts(db, post.root_id || post.id, loadFiles));
  });

  router.get('/posts/:post_id/files/info', kit.auth, async (ctx) => {
    const { post } = await loadPostAccess(db, actorOf(ctx.state), idParam(ctx.params, 'post_id'));
    sendJson(ctx, 200, loadFiles ? ((await loadFiles(db, [post.id])).get(post.id) ?? []) : []);
  });

  router.get('/posts/:post_id/edit_history', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { post, access } = await loadPostAccess(db, actor, idParam(ctx.params, 'post_id'));
    if (!mayReadHistory(actor, post, access)) throw new ForbiddenError('api.context.permissions.app_error', 'Only the author can see the edit history of a post.');
    const versions = await db('post_versions').where({ post_id: post.id, reason: 'edit' }).orderBy('id', 'desc');
    sendJson(ctx, 200, versions.map((v) => presentPost({ ...post, message: v.message, props: v.props, file_ids: v.file_ids, is_pinned: v.is_pinned, edit_at: v.version_create_at === post.create_at ? 0 : v.version_create_at, update_at: v.replaced_at, original_id: post.id })));
  });

  router.put('/posts/:post_id/patch', kit.auth, kit.body(schema.patchPostBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const post = await inTransaction(db, (trx, afterCommit) => patchPost(trx, deps, afterCommit, actor, idParam(ctx.params, 'post_id'), bodyOf(schema.patchPostBody, ctx.state)));
    sendJson(ctx, 200, await present(post));
  });

  router.put('/posts/:post_id', kit.auth, kit.body(schema.updatePostBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const postId = idParam(ctx.params, 'post_id');
    const body = bodyOf(schema.updatePostBody, ctx.state);
    if (body.id && body.id !== postId) throw new InvalidInputError('api.context.invalid_body_param.app_error', 'The post id in the body does not match the URL.');
    const post = await inTransaction(db, (trx, afterCommit) => patchPost(trx, deps, afterCommit, actor, postId, { message: body.message, props: body.props }));
    sendJson(ctx, 200, await present(post));
  });

  router.delete('/posts/:post_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    await inTransaction(db, (trx, afterCommit) => deletePost(trx, deps, afterCommit, actor, idParam(ctx.params, 'post_id')));
    sendOk(ctx);
  });

  for (const [path, pinned] of [['pin', true], ['unpin', false]] as const) {
    router.post(`/posts/:post_id/${path}`, kit.auth, async (ctx) => {
      const actor = actorOf(ctx.state);
      await inTransaction(db, (trx, afterCommit) => patchPost(trx, deps, afterCommit, actor, idParam(ctx.params, 'post_id'), { is_pinned: pinned }));
      sendOk(ctx);
    });
  }

  router.post('/reactions', kit.auth, kit.body(schema.reactionBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(schema.reactionBody, ctx.state);
    if (body.user_id !== actor.userId) throw new ForbiddenError('api.context.permissions.app_error', 'You can only react as yourself.');
    const reaction = await inTransaction(db, (trx, afterCommit) => addReaction(trx, events, afterCommit, actor, body.post_id, body.emoji_name));
    sendJson(ctx, 200, presentReaction(reaction));
  });

  router.get('/posts/:post_id/reactions', kit.auth, async (ctx) => {
    const { post } = await loadPostAccess(db, actorOf(ctx.state), idParam(ctx.params, 'post_id'));
    const rows = (await db('reactions').where({ post_id: post.id, delete_at: 0 }).orderBy('create_at')) as ReactionRow[];
    sendJson(ctx, 200, rows.map(presentReaction));
  });

  router.delete('/users/:user_id/posts/:post_id/reactions/:emoji_name', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const emoji = parseOrThrow(schema.emojiName, ctx.params.emoji_name, 'emoji_name');
    await inTransaction(db, (trx, afterCommit) => removeReaction(trx, events, afterCommit, actor, userIdParam(ctx.params, actor), idParam(ctx.params, 'post_id'), emoji));
    sendOk(ctx);
  });

  return router;
}
