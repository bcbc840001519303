import { Router } from '@koa/router';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../../auth/actor.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { buildPostList, type FileInfoLoader } from '../../posts/queries.ts';
import { searchIndexOf } from '../../search/active-index.ts';
import { searchUserPosts } from '../../search/user-search.ts';
import { parseSearchTerms } from '../../search/terms.ts';
import type { Services } from '../../services.ts';
import { idParam, routeKit } from '../kit.ts';
import { loadTeamAccess } from '../teams/routes.ts';

const searchBody = z.object({
  terms: z.string().max(1000),
  is_or_search: z.boolean().default(false),
  time_zone_offset: z.number().int().min(-14 * 3600).max(14 * 3600).default(0),
  include_deleted_channels: z.boolean().default(false),
  page: z.number().int().min(0).max(1000).default(0),
  per_page: z.number().int().min(1).max(200).default(60),
});

/** Channels a user may search: the ones they belong to, in this team plus their direct and group messages. */
function searchableChannels(db: Knex, actor: Actor, teamId: string, inChannels: string[], excluded: string[], includeDeleted: boolean): Knex.QueryBuilder {
  const q = db('channel_members as cm').join('channels as c', 'c.id', 'cm.channel_id').where('cm.user_id', actor.userId).andWhere((w) => w.where('c.team_id', teamId).orWhere('c.team_id', '')).select('c.id');
  if (!includeDeleted) q.andWhere('c.delete_at', 0);
  if (inChannels.length) q.whereIn('c.name', inChannels);
  if (excluded.length) q.whereNotIn('c.name', excluded);
  return q;
}

/** `POST /teams/{team_id}/posts/search`: Mattermost's user search, limited to channels the user can read. */
export function searchRoutes(services: Services, files: { loadFiles?: FileInfoLoader } = {}): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.post('/teams/:team_id/posts/search', kit.auth, kit.body(searchBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    const body = bodyOf(searchBody, ctx.state);
    const search = parseSearchTerms(body.terms);
    const { rows, hasNext } = await searchUserPosts(db, searchIndexOf(services), {
      search,
      channelScope: searchableChannels(db, actor, team.id, search.inChannels, search.excludedInChannels, body.include_deleted_channels),
      isOrSearch: body.is_or_search,
      timeZoneOffsetSeconds: body.time_zone_offset,
      page: body.page,
      perPage: body.per_page,
    });
    const list = await buildPostList(db, rows, { has_next: hasNext }, files.loadFiles);
    const highlighted = [...search.words, ...search.phrases, ...search.prefixes.map((p) => `${p}*`), ...search.hashtags];
    sendJson(ctx, 200, { ...list, matches: Object.fromEntries(rows.map((r) => [r.id, highlighted])) });
  });

  return router;
}
