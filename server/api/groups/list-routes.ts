import { Router } from '@koa/router';
import { authorize, can } from '../../auth/policy.ts';
import { loadChannelAccess } from '../../channels/access.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { groupMembership, searchGroups } from '../../groups/search.ts';
import { getTeam } from '../../teams/service.ts';
import { queryOf, routeKit } from '../kit.ts';
import { loadTeamAccess } from '../teams/routes.ts';
import { presentGroup } from './presenter.ts';
import * as schema from './schema.ts';

/**
 * GET /groups with Mattermost's filters. Any signed-in user may list groups, as in Mattermost, but only
 * those who manage groups see groups nobody can mention, and guests (who may not look other users up)
 * see only their own groups. not_associated_to_channel needs the right to manage that channel's
 * members (Mattermost's rule); not_associated_to_team, a team the caller can see.
 */
export function groupListRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/groups', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const query = queryOf(schema.searchQuery, ctx.query);
    const manager = can(actor, 'manage_groups', { kind: 'system' });
    let hasMember = query.filter_has_member;
    if (!manager && !can(actor, 'view_members', { kind: 'system' })) {
      // Someone else's groups would tell a guest who that person is: they see nothing, as in Mattermost.
      if (hasMember && hasMember !== actor.userId) return sendJson(ctx, 200, query.include_total_count ? { groups: [], total_group_count: 0 } : []);
      hasMember = actor.userId;
    }
    if (query.not_associated_to_team) {
      if (manager) await getTeam(db, query.not_associated_to_team);
      else await loadTeamAccess(db, actor, query.not_associated_to_team);
    }
    if (query.not_associated_to_channel) {
      const access = await loadChannelAccess(db, actor, query.not_associated_to_channel);
      if (!manager) authorize(actor, access.channel.type === 'P' ? 'manage_private_channel_members' : 'manage_public_channel_members', access.resource);
    }
    const { rows, total } = await searchGroups(db, {
      q: query.q || undefined, source: query.group_source ?? query.source, onlySyncable: query.only_syncable_sources,
      onlyReferenceable: query.filter_allow_reference || !manager, hasMember,
      notAssociatedToTeam: query.not_associated_to_team, notAssociatedToChannel: query.not_associated_to_channel,
      parentTeamPermitted: query.filter_parent_team_permitted,
      archived: query.filter_archived ? 'only' : query.include_archived ? 'include' : 'exclude',
      since: query.since, page: query.page, perPage: query.per_page,
    });
    const members = await groupMembership(db, rows.map((r) => r.id), query.include_member_ids);
    const groups = rows.map((r) => {
      const m = members.get(r.id)!;
      return presentGroup(r, { member_count: m.count, ...(m.ids ? { member_ids: m.ids } : {}) });
    });
    sendJson(ctx, 200, query.include_total_count ? { groups, total_group_count: total } : groups);
  });

  return router;
}
