import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { nowMs } from '../../lib/clock.ts';
import { InvalidInputError, NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { groupGrantableRoles, reconcileGroupMembers, reconcileSyncable } from '../../../sso/index.ts';
import { assertSource } from '../../groups/custom.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { presentGroup, presentSyncable, type GroupRow } from './presenter.ts';
import * as schema from './schema.ts';

/**
 * Groups (from LDAP, SAML, OIDC or made by hand) and their links to teams and channels: Mattermost's
 * /groups API. Linking applies at once to every member; so does unlinking a group-constrained one.
 */
export function groupRoutes(services: Services): Router<AppState> {
  const { db } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();
  const groupDeps = { events: services.events, logger: services.logger };

  const loadGroup = async (id: string, trx: Services['db'] = db): Promise<GroupRow> => {
    const row = (await trx('groups').where({ id }).first()) as GroupRow | undefined;
    if (!row) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
    return row;
  };
  const syncableOf = (params: Record<string, string>) => {
    const type = queryOf(schema.syncableType, params.syncable_type) === 'teams' ? 'team' as const : 'channel' as const;
    return { type, id: idParam(params, 'syncable_id') };
  };
  const loadSyncable = async (syncable: { type: 'team' | 'channel'; id: string }) => {
    const row = await db(syncable.type === 'team' ? 'teams' : 'channels').where({ id: syncable.id, delete_at: 0 }).first('id', syncable.type === 'channel' ? 'type' : 'id');
    if (!row || (syncable.type === 'channel' && !['O', 'P'].includes(row.type))) throw new NotFoundError('app.group.syncable.missing', `We could not find that ${syncable.type}.`);
  };

  router.get('/groups/:group_id', kit.auth, async (ctx) => {
    const group = await loadGroup(idParam(ctx.params, 'group_id'));
    // A group people can mention (or could, before it was archived) is no secret (Mattermost); any
    // other is for those who manage groups. GET /groups lists the same ones.
    if (!group.allow_reference) authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    const [{ n }] = await db('group_members').where({ group_id: group.id, delete_at: 0 }).count({ n: '*' });
    const linked = await db('group_syncables').where({ group_id: group.id, delete_at: 0 }).first('group_id');
    sendJson(ctx, 200, presentGroup(group, { member_count: Number(n), has_syncables: Boolean(linked) }));
  });

  router.put('/groups/:group_id/patch', kit.auth, kit.body(schema.patchGroupBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const groupId = idParam(ctx.params, 'group_id');
    const body = bodyOf(schema.patchGroupBody, ctx.state);
    const audit = openAudit(services, ctx, 'patch_group', { objectType: 'group', parameters: { group_id: groupId, ...body } });
    const updated = await audit.run(async (trx, afterCommit) => {
      authorize(actor, 'manage_groups', { kind: 'system' });
      // Granting system roles through a group is granting them: only system admins may, and only through
      // groups whose members the directory or identity provider decides.
      if (body.roles !== undefined) authorize(actor, 'manage_system', { kind: 'system' });
      const group = await loadGroup(groupId, trx);
      if (body.roles) assertSource(group, 'external', 'given roles');
      const patch: Record<string, unknown> = { ...body };
      if (body.roles !== undefined) {
        const roles = [...new Set(body.roles.split(/\s+/).filter(Boolean))];
        const unknown = roles.find((r) => !(groupGrantableRoles as readonly string[]).includes(r));
        if (unknown) throw new InvalidInputError('api.group.roles.invalid', `A group cannot grant "${unknown}"; it may grant ${groupGrantableRoles.join(', ')}.`);
        patch.roles = roles.join(' ');
      }
      audit.prior(Object.fromEntries(Object.keys(patch).map((k) => [k, group[k as keyof GroupRow]])));
      const [row] = (await trx('groups').where({ id: group.id }).update({ ...patch, update_at: nowMs() }).returning('*')) as GroupRow[];
      audit.result(patch);
      if (patch.roles !== undefined && patch.roles !== group.roles) await reconcileGroupMembers(trx, groupDeps, afterCommit, group.id);
      return row;
    });
    sendJson(ctx, 200, presentGroup(updated));
  });

  router.get('/groups/:group_id/members', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    const group = await loadGroup(idParam(ctx.params, 'group_id'));
    const { page, per_page } = queryOf(schema.listQuery, ctx.query);
    const rows = await db('group_members as gm').join('users as u', 'u.id', 'gm.user_id').where({ 'gm.group_id': group.id, 'gm.delete_at': 0 })
      .orderBy('u.username').offset(page * per_page).limit(per_page).select('u.id', 'u.username', 'u.first_name', 'u.last_name', 'u.delete_at');
    const [{ n }] = await db('group_members').where({ group_id: group.id, delete_at: 0 }).count({ n: '*' });
    sendJson(ctx, 200, { members: rows, total_member_count: Number(n) });
  });

  router.put('/groups/syncables/:syncable_type/:syncable_id/constrained', kit.auth, kit.body(schema.constrainedBody), async (ctx) => {
    const syncable = syncableOf(ctx.params);
    const { group_constrained } = bodyOf(schema.constrainedBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_group_constrained', { objectType: syncable.type, parameters: { [`${syncable.type}_id`]: syncable.id, group_constrained } });
    await audit.run(async (trx, afterCommit) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      await loadSyncable(syncable);
      await trx(syncable.type === 'team' ? 'teams' : 'channels').where({ id: syncable.id }).update({ group_constrained, update_at: nowMs() });
      // Members outside every linked group leave at once.
      if (group_constrained) await reconcileSyncable(trx, groupDeps, afterCommit, syncable);
    });
    sendOk(ctx);
  });

  router.get('/groups/:group_id/:syncable_type', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    const group = await loadGroup(idParam(ctx.params, 'group_id'));
    const type = queryOf(schema.syncableType, ctx.params.syncable_type) === 'teams' ? 'team' : 'channel';
    const rows = await db('group_syncables').where({ group_id: group.id, type, delete_at: 0 }).orderBy('create_at');
    sendJson(ctx, 200, rows.map(presentSyncable));
  });

  router.post('/groups/:group_id/:syncable_type/:syncable_id/link', kit.auth, kit.body(schema.linkBody), async (ctx) => {
    const groupId = idParam(ctx.params, 'group_id');
    const syncable = syncableOf(ctx.params);
    const body = bodyOf(schema.linkBody, ctx.state);
    const audit = openAudit(services, ctx, 'link_group_syncable', { objectType: 'group_syncable', parameters: { group_id: groupId, [`${syncable.type}_id`]: syncable.id, ...body } });
    const row = await audit.run(async (trx, afterCommit) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      const group = await loadGroup(groupId, trx);
      if (group.delete_at > 0) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
      // Anyone may fill a custom group: linking one would let them into group-constrained teams and channels.
      assertSource(group, 'external', 'linked to a team or channel');
      await loadSyncable(syncable);
      const now = nowMs();
      const [stored] = await trx('group_syncables')
        .insert({ group_id: group.id, syncable_id: syncable.id, type: syncable.type, auto_add: body.auto_add, scheme_admin: body.scheme_admin, create_at: now, update_at: now, delete_at: 0 })
        .onConflict(['group_id', 'syncable_id', 'type']).merge({ auto_add: body.auto_add, scheme_admin: body.scheme_admin, update_at: now, delete_at: 0 })
        .returning('*');
      await reconcileGroupMembers(trx, groupDeps, afterCommit, group.id);
      return stored;
    });
    sendJson(ctx, 201, presentSyncable(row));
  });

  router.delete('/groups/:group_id/:syncable_type/:syncable_id/link', kit.auth, async (ctx) => {
    const groupId = idParam(ctx.params, 'group_id');
    const syncable = syncableOf(ctx.params);
    const audit = openAudit(services, ctx, 'unlink_group_syncable', { objectType: 'group_syncable', parameters: { group_id: groupId, [`${syncable.type}_id`]: syncable.id } });
    await audit.run(async (trx, afterCommit) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      const group = await loadGroup(groupId, trx);
      const gone = await trx('group_syncables').where({ group_id: group.id, syncable_id: syncable.id, type: syncable.type, delete_at: 0 }).update({ delete_at: nowMs(), update_at: nowMs() });
      if (!gone) throw new NotFoundError('app.group.syncable.missing', 'That group is not linked there.');
      await reconcileSyncable(trx, groupDeps, afterCommit, syncable);
    });
    sendOk(ctx);
  });

  return router;
}
