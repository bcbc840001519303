import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { InvalidInputError, NotFoundError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { assertSource, changeCustomGroupMembers, createCustomGroup, presentGroupMember, setCustomGroupArchived } from '../../groups/custom.ts';
import { openAudit } from '../audited.ts';
import { idParam, routeKit } from '../kit.ts';
import { presentGroup, type GroupRow } from './presenter.ts';
import * as schema from './schema.ts';

/**
 * Custom groups (Mattermost's `source: "custom"`): POST /groups, DELETE /groups/{id}, POST
 * /groups/{id}/restore, POST and DELETE /groups/{id}/members. Every change is audited. Directory and
 * identity-provider groups are refused here (400 app.group.crud_permission): their members come from there.
 */
export function customGroupRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  const loadGroup = async (trx: Services['db'], groupId: string): Promise<GroupRow> => {
    const row = (await trx('groups').where({ id: groupId }).forUpdate().first()) as GroupRow | undefined;
    if (!row) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
    return row;
  };

  router.post('/groups', kit.auth, kit.body(schema.createGroupBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(schema.createGroupBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_group', { objectType: 'group', parameters: { name: body.name, display_name: body.display_name, user_ids: body.user_ids } });
    const group = await audit.run(async (trx) => {
      authorize(actor, 'manage_custom_groups', { kind: 'system' });
      assertSource(body, 'custom', 'created through the API');
      if (!body.allow_reference) throw new InvalidInputError('api.custom_groups.must_be_referenceable', 'A custom group must allow mentions (allow_reference: true).');
      if (body.remote_id) throw new InvalidInputError('api.custom_groups.no_remote_id', 'A custom group has no remote id.');
      const { id } = await createCustomGroup(trx, { name: body.name, displayName: body.display_name, description: body.description, userIds: body.user_ids });
      audit.result({ group_id: id });
      return (await trx('groups').where({ id }).first()) as GroupRow;
    });
    sendJson(ctx, 201, presentGroup(group, { member_count: new Set(body.user_ids).size }));
  });

  router.delete('/groups/:group_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const groupId = idParam(ctx.params, 'group_id');
    const audit = openAudit(services, ctx, 'delete_group', { objectType: 'group', parameters: { group_id: groupId } });
    const group = await audit.run(async (trx) => {
      authorize(actor, 'manage_custom_groups', { kind: 'system' });
      const row = await loadGroup(trx, groupId);
      assertSource(row, 'custom', 'deleted');
      if (Number(row.delete_at) > 0) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
      await setCustomGroupArchived(trx, row, true);
      return (await trx('groups').where({ id: groupId }).first()) as GroupRow;
    });
    sendJson(ctx, 200, presentGroup(group));
  });

  router.post('/groups/:group_id/restore', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const groupId = idParam(ctx.params, 'group_id');
    const audit = openAudit(services, ctx, 'restore_group', { objectType: 'group', parameters: { group_id: groupId } });
    const group = await audit.run(async (trx) => {
      authorize(actor, 'manage_custom_groups', { kind: 'system' });
      const row = await loadGroup(trx, groupId);
      assertSource(row, 'custom', 'restored');
      if (Number(row.delete_at) === 0) throw new NotFoundError('app.group.no_rows', 'That group is not archived.');
      await setCustomGroupArchived(trx, row, false);
      return (await trx('groups').where({ id: groupId }).first()) as GroupRow;
    });
    sendJson(ctx, 200, presentGroup(group));
  });

  for (const [method, change] of [['post', 'add'], ['delete', 'remove']] as const) {
    router[method]('/groups/:group_id/members', kit.auth, kit.body(schema.memberIdsBody), async (ctx) => {
      const actor = actorOf(ctx.state);
      const groupId = idParam(ctx.params, 'group_id');
      const { user_ids } = bodyOf(schema.memberIdsBody, ctx.state);
      const audit = openAudit(services, ctx, `${change}_group_members`, { objectType: 'group_member', parameters: { group_id: groupId, user_ids } });
      const members = await audit.run(async (trx) => {
        authorize(actor, 'manage_custom_groups', { kind: 'system' });
        const row = await loadGroup(trx, groupId);
        assertSource(row, 'custom', 'given members by hand');
        if (Number(row.delete_at) > 0) throw new NotFoundError('app.group.no_rows', 'We could not find that group.');
        return changeCustomGroupMembers(trx, groupId, user_ids, change);
      });
      sendJson(ctx, 200, members.map(presentGroupMember));
    });
  }

  return router;
}
