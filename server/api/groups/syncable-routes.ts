import { Router } from '@koa/router';
import { authorize, can } from '../../auth/policy.ts';
import { authorizeChannel } from '../../channels/access.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { nowMs } from '../../lib/clock.ts';
import { NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { reconcileGroupMembers } from '../../../sso/index.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { loadTeamAccess } from '../teams/routes.ts';
import { userIdParam } from '../users/routes.ts';
import { presentGroup, presentSyncable, type GroupRow } from './presenter.ts';
import * as schema from './schema.ts';

/**
 * Groups seen from their links and members: GET /groups/{id}/stats, GET and PATCH one link
 * (/groups/{id}/{teams|channels}/{syncable_id}), GET /teams/{id}/groups, GET /channels/{id}/groups and
 * GET /users/{id}/groups. Those who may not manage groups see only groups that allow mentions.
 */
export function groupSyncableRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();
  const groupDeps = { events: services.events, logger: services.logger };
  const typeOf = (value: string | undefined) => (queryOf(schema.syncableType, value) === 'teams' ? 'team' as const : 'channel' as const);
  const managesGroups = (ctx: { state: AppState }) => can(actorOf(ctx.state), 'manage_groups', { kind: 'system' });

  /** Active groups linked to a team or channel, with the link's scheme_admin (Mattermost's GroupWithSchemeAdmin). */
  const linkedGroups = async (syncable: { type: 'team' | 'channel'; id: string }, onlyReferenceable: boolean) => {
    const query = db('groups as g').join('group_syncables as gs', 'gs.group_id', 'g.id')
      .where({ 'gs.syncable_id': syncable.id, 'gs.type': syncable.type, 'gs.delete_at': 0, 'g.delete_at': 0 })
      .orderBy('g.display_name').select('g.*', 'gs.scheme_admin as link_scheme_admin');
    if (onlyReferenceable) query.where('g.allow_reference', true);
    const rows = (await query) as (GroupRow & { link_scheme_admin: boolean })[];
    return { groups: rows.map(({ link_scheme_admin, ...g }) => presentGroup(g, { scheme_admin: link_scheme_admin })), total_group_count: rows.length };
  };

  const loadLink = async (params: Record<string, string>) => {
    const groupId = idParam(params, 'group_id');
    const type = typeOf(params.syncable_type);
    const row = await db('group_syncables').where({ group_id: groupId, type, syncable_id: idParam(params, 'syncable_id'), delete_at: 0 }).first();
    if (!row) throw new NotFoundError('app.group.syncable.missing', `That group is not linked to that ${type}.`);
    return row;
  };

  router.get('/groups/:group_id/stats', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    const group = await db('groups').where({ id: idParam(ctx.params, 'group_id') }).first('id');
    if (!group) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
    const [{ n }] = await db('group_members').where({ group_id: group.id, delete_at: 0 }).count({ n: '*' });
    sendJson(ctx, 200, { group_id: group.id, total_member_count: Number(n) });
  });

  router.get('/groups/:group_id/:syncable_type/:syncable_id', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    sendJson(ctx, 200, presentSyncable(await loadLink(ctx.params)));
  });

  router.put('/groups/:group_id/:syncable_type/:syncable_id/patch', kit.auth, kit.body(schema.syncablePatchBody), async (ctx) => {
    const patch = bodyOf(schema.syncablePatchBody, ctx.state);
    const type = typeOf(ctx.params.syncable_type);
    const parameters = { group_id: idParam(ctx.params, 'group_id'), [`${type}_id`]: idParam(ctx.params, 'syncable_id'), ...patch };
    const audit = openAudit(services, ctx, 'patch_group_syncable', { objectType: 'group_syncable', parameters });
    const row = await audit.run(async (trx, afterCommit) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      const link = await loadLink(ctx.params);
      audit.prior({ auto_add: link.auto_add, scheme_admin: link.scheme_admin });
      const [updated] = await trx('group_syncables').where({ group_id: link.group_id, syncable_id: link.syncable_id, type: link.type }).update({ ...patch, update_at: nowMs() }).returning('*');
      // auto_add and scheme_admin apply to the group's members at once, as linking does.
      await reconcileGroupMembers(trx, groupDeps, afterCommit, link.group_id);
      return updated;
    });
    sendJson(ctx, 200, presentSyncable(row));
  });

  router.get('/teams/:team_id/groups', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'list_team_channels', resource);
    sendJson(ctx, 200, await linkedGroups({ type: 'team', id: team.id }, !managesGroups(ctx)));
  });

  router.get('/channels/:channel_id/groups', kit.auth, async (ctx) => {
    const { channel } = await authorizeChannel(db, actorOf(ctx.state), idParam(ctx.params, 'channel_id'), 'read_channel');
    sendJson(ctx, 200, await linkedGroups({ type: 'channel', id: channel.id }, !managesGroups(ctx)));
  });

  router.get('/users/:user_id/groups', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = userIdParam(ctx.params, actor);
    if (userId !== actor.userId) authorize(actor, 'manage_system', { kind: 'system' });
    const query = db('groups as g').join('group_members as gm', 'gm.group_id', 'g.id').where({ 'gm.user_id': userId, 'gm.delete_at': 0, 'g.delete_at': 0 }).orderBy('g.display_name').select('g.*');
    if (!managesGroups(ctx)) query.where('g.allow_reference', true);
    sendJson(ctx, 200, ((await query) as GroupRow[]).map((g) => presentGroup(g)));
  });

  return router;
}
