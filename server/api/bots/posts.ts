import { Router } from '@koa/router';
import { resolveToken } from '../../auth/sessions.ts';
import { inTransaction } from '../../db/transaction.ts';
import { actorOf, credentialOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { presentPost } from '../../posts/model.ts';
import { loadMetadata } from '../../posts/queries.ts';
import { createPost, type PostDeps } from '../../posts/service.ts';
import type { Services } from '../../services.ts';
import { routeKit } from '../kit.ts';
import type { PostRouteDeps } from '../posts/routes.ts';
import { createPostBody } from '../posts/schema.ts';

/**
 * POST /posts for bots: Mattermost marks every post a bot makes with props.from_bot = "true", a prop
 * clients cannot set. Mounted before the posts router; requests from anyone else go on to it unchanged
 * (the session lookup they cost here is served again from the session cache there).
 */
export function botPostRoutes(services: Services, fileDeps: PostRouteDeps = {}): Router<AppState> {
  const { db, events } = services;
  const deps: PostDeps = { events, attachFiles: fileDeps.attachFiles };
  const kit = routeKit(services);
  const body = kit.body(createPostBody);
  const router = new Router<AppState>();

  router.post('/posts', async (ctx, next) => {
    const credential = credentialOf(ctx);
    const resolved = credential ? await resolveToken(db, credential.token, services.sessionPolicy) : undefined;
    if (!resolved?.user.is_bot) return next();
    await kit.auth(ctx, () =>
      body(ctx, async () => {
        const actor = actorOf(ctx.state);
        const post = await inTransaction(db, (trx, afterCommit) => createPost(trx, deps, afterCommit, actor, bodyOf(createPostBody, ctx.state), { trustedProps: { from_bot: 'true' } }));
        sendJson(ctx, 201, presentPost(post, (await loadMetadata(db, [post.id], fileDeps.loadFiles)).get(post.id)));
      }),
    );
  });

  return router;
}
