import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { membersOutsideGroups, type OutsideMember } from '../../groups/outside-members.ts';
import { presentUser } from '../../users/presenter.ts';
import type { Actor } from '../../auth/actor.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { presentGroup, type GroupRow } from './presenter.ts';
import * as schema from './schema.ts';

/**
 * GET /teams/{id}/members_minus_group_members and GET /channels/{id}/members_minus_group_members:
 * who would leave a team or channel made group-constrained to `group_ids` (the system console asks
 * before turning the constraint on). For those who manage groups, as in Mattermost
 * (sysconsole_read_user_management_groups); Mattermost's UsersWithGroupsAndCount.
 */
export function minusGroupMembersRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();

  const present = async (actor: Actor, result: { members: OutsideMember[]; total: number }) => {
    const groupIds = [...new Set(result.members.flatMap((m) => m.groupIds))];
    const groups = groupIds.length ? ((await db('groups').whereIn('id', groupIds)) as GroupRow[]) : [];
    const byId = new Map(groups.map((g) => [g.id, presentGroup(g)]));
    return {
      users: result.members.map((m) => ({
        ...presentUser(m.user, actor), groups: m.groupIds.map((id) => byId.get(id)), scheme_guest: m.scheme_guest, scheme_user: m.scheme_user, scheme_admin: m.scheme_admin,
      })),
      total_count: result.total,
    };
  };

  for (const type of ['team', 'channel'] as const) {
    router.get(`/${type}s/:${type}_id/members_minus_group_members`, kit.auth, async (ctx) => {
      const actor = actorOf(ctx.state);
      const id = idParam(ctx.params, `${type}_id`);
      const query = queryOf(schema.minusGroupMembersQuery, ctx.query);
      authorize(actor, 'manage_groups', { kind: 'system' });
      const found = type === 'team'
        ? await db('teams').where({ id, delete_at: 0 }).first('id')
        : await db('channels').where({ id, delete_at: 0 }).whereIn('type', ['O', 'P']).first('id');
      if (!found) {
        throw type === 'team'
          ? new NotFoundError('app.team.get.find.app_error', 'We could not find the team.')
          : new NotFoundError('app.channel.get.existing.app_error', 'Unable to find the existing channel.');
      }
      const result = await membersOutsideGroups(db, { type, id, groupIds: query.group_ids, page: query.page, perPage: query.per_page });
      sendJson(ctx, 200, await present(actor, result));
    });
  }

  return router;
}
