import { Router } from '@koa/router';
import type { Actor } from '../../auth/actor.ts';
import { authorize } from '../../auth/policy.ts';
import { authorizeChannel, loadChannelAccess } from '../../channels/access.ts';
import { ChannelAccessCache } from '../../channels/access-cache.ts';
import { presentChannel, presentChannelMember, type ChannelMemberRow, type ChannelRow } from '../../channels/model.ts';
import * as channels from '../../channels/service.ts';
import { inOneStatement, inTransaction } from '../../db/transaction.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { NotFoundError } from '../../lib/errors.ts';
import { nowMs } from '../../lib/clock.ts';
import type { Services } from '../../services.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { loadTeamAccess } from '../teams/routes.ts';
import { pagingQuery } from '../users/schema.ts';
import { userIdParam } from '../users/routes.ts';
import * as schema from './schema.ts';

export function channelRoutes(services: Services): Router<AppState> {
  const { db, events } = services;
  const deps = { events };
  const kit = routeKit(services);
  const router = new Router<AppState>();
  // Channel switches view and count channels many times a minute; their permission check is served
  // from memory, dropped by membership events on every node.
  const accessCache = new ChannelAccessCache(events);

  /** Only the user themself reads their own channel list and memberships. */
  const selfOnly = (actor: Actor, params: Record<string, string>) => {
    const userId = userIdParam(params, actor);
    if (userId !== actor.userId) authorize(actor, 'manage_system', { kind: 'system' });
    return userId;
  };

  router.post('/channels', kit.auth, kit.body(schema.createChannelBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(schema.createChannelBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_channel', { objectType: 'channel', parameters: body });
    const channel = await audit.run(async (trx, afterCommit) => {
      const created = await channels.createChannel(trx, deps, afterCommit, actor, body);
      audit.result({ channel_id: created.id, name: created.name, type: created.type });
      return created;
    });
    sendJson(ctx, 201, presentChannel(channel));
  });

  router.post('/channels/direct', kit.auth, kit.body(schema.directBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const userIds = bodyOf(schema.directBody, ctx.state);
    const channel = (await channels.existingDirectChannel(db, actor, userIds)) ?? (await inTransaction(db, (trx, afterCommit) => channels.openDirectChannel(trx, deps, afterCommit, actor, userIds)));
    sendJson(ctx, 201, presentChannel(channel));
  });

  router.post('/channels/group', kit.auth, kit.body(schema.groupBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const channel = await inTransaction(db, (trx, afterCommit) => channels.openGroupChannel(trx, deps, afterCommit, actor, bodyOf(schema.groupBody, ctx.state)));
    sendJson(ctx, 201, presentChannel(channel));
  });

  router.post('/channels/members/:user_id/view', kit.auth, kit.body(schema.viewBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    selfOnly(actor, ctx.params);
    const { channel_id } = bodyOf(schema.viewBody, ctx.state);
    const times: Record<string, number> = {};
    if (channel_id) {
      const access = await accessCache.authorize(db, actor, channel_id, 'read_channel');
      // One UPDATE that also re-checks the membership: no transaction needed.
      times[channel_id] = await inOneStatement(db, (one, afterCommit) => channels.viewChannel(one, deps, afterCommit, actor, access.channel));
    }
    sendJson(ctx, 200, { status: 'OK', last_viewed_at_times: times });
  });

  router.get('/channels/:channel_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { channel } = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    sendJson(ctx, 200, presentChannel(channel));
  });

  router.put('/channels/:channel_id/patch', kit.auth, kit.body(schema.patchChannelBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const access = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'manage_channel_properties');
    const [row] = (await db('channels').where({ id: access.channel.id }).update({ ...bodyOf(schema.patchChannelBody, ctx.state), update_at: nowMs() }).returning('*')) as ChannelRow[];
    events.publish({ event: 'channel_updated', data: { channel: JSON.stringify(presentChannel(row)) }, broadcast: { channel_id: row.id } });
    sendJson(ctx, 200, presentChannel(row));
  });

  router.delete('/channels/:channel_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const channelId = idParam(ctx.params, 'channel_id');
    const audit = openAudit(services, ctx, 'archive_channel', { objectType: 'channel', parameters: { channel_id: channelId } });
    await audit.run(async (trx, afterCommit) => channels.setChannelArchived(trx, deps, afterCommit, actor, await loadChannelAccess(trx, actor, channelId), true));
    sendOk(ctx);
  });

  router.post('/channels/:channel_id/restore', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const channelId = idParam(ctx.params, 'channel_id');
    const audit = openAudit(services, ctx, 'restore_channel', { objectType: 'channel', parameters: { channel_id: channelId } });
    const row = await audit.run(async (trx, afterCommit) => channels.setChannelArchived(trx, deps, afterCommit, actor, await loadChannelAccess(trx, actor, channelId), false));
    sendJson(ctx, 200, presentChannel(row));
  });

  router.get('/channels/:channel_id/stats', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { channel } = await accessCache.authorize(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    const { members, pinned } = await channels.channelStats(db, channel.id);
    sendJson(ctx, 200, { channel_id: channel.id, member_count: members, guest_count: 0, pinnedpost_count: pinned, files_count: 0 });
  });

  router.get('/channels/:channel_id/members', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { channel } = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    const rows = (await db('channel_members').where({ channel_id: channel.id }).orderBy('user_id').offset(page * per_page).limit(per_page)) as ChannelMemberRow[];
    sendJson(ctx, 200, rows.map(presentChannelMember));
  });

  router.get('/channels/:channel_id/members/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { channel } = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    const row = (await db('channel_members').where({ channel_id: channel.id, user_id: userIdParam(ctx.params, actor) }).first()) as ChannelMemberRow | undefined;
    if (!row) throw new NotFoundError('app.channel.get_member.missing.app_error', 'That user is not a member of the channel.');
    sendJson(ctx, 200, presentChannelMember(row));
  });

  router.post('/channels/:channel_id/members', kit.auth, kit.body(schema.addMemberBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const channelId = idParam(ctx.params, 'channel_id');
    const body = bodyOf(schema.addMemberBody, ctx.state);
    const ids = body.user_ids ?? [body.user_id!];
    const audit = openAudit(services, ctx, 'add_channel_members', { objectType: 'channel_member', parameters: { channel_id: channelId, user_ids: ids } });
    const members = await audit.run(async (trx, afterCommit) => {
      const access = await loadChannelAccess(trx, actor, channelId);
      const added = [];
      for (const userId of ids) added.push(await channels.addMemberToChannel(trx, deps, afterCommit, actor, access, userId));
      return added;
    });
    sendJson(ctx, 201, body.user_ids ? members.map(presentChannelMember) : presentChannelMember(members[0]));
  });

  router.delete('/channels/:channel_id/members/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const channelId = idParam(ctx.params, 'channel_id');
    const userId = userIdParam(ctx.params, actor);
    const audit = openAudit(services, ctx, 'remove_channel_member', { objectType: 'channel_member', parameters: { channel_id: channelId, user_id: userId } });
    await audit.run(async (trx, afterCommit) => channels.removeMemberFromChannel(trx, deps, afterCommit, actor, await loadChannelAccess(trx, actor, channelId), userId));
    sendOk(ctx);
  });

  router.put('/channels/:channel_id/members/:user_id/schemeRoles', kit.auth, kit.body(schema.schemeRolesBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const channelId = idParam(ctx.params, 'channel_id');
    const userId = userIdParam(ctx.params, actor);
    const roles = bodyOf(schema.schemeRolesBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_channel_member_roles', { objectType: 'channel_member', parameters: { channel_id: channelId, user_id: userId, ...roles } });
    const access = await audit.run(async (trx) => {
      const access = await authorizeChannel(trx, actor, channelId, 'manage_channel_roles');
      const updated = await trx('channel_members').where({ channel_id: access.channel.id, user_id: userId, scheme_guest: false }).update({ ...roles, last_update_at: nowMs() });
      if (!updated) throw new NotFoundError('app.channel.get_member.missing.app_error', 'That user is not a member of the channel.');
      return access;
    });
    events.publish({ event: 'channel_member_updated', data: { channel_id: access.channel.id, user_id: userId }, broadcast: { user_id: userId } });
    sendOk(ctx);
  });

  router.get('/users/:user_id/teams/:team_id/channels', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = selfOnly(actor, ctx.params);
    const teamId = idParam(ctx.params, 'team_id');
    const rows = (await db('channels as c')
      .join('channel_members as cm', 'cm.channel_id', 'c.id')
      .where('cm.user_id', userId)
      .where((q) => q.where('c.team_id', teamId).orWhere('c.team_id', ''))
      .modify((q) => (ctx.query.include_deleted === 'true' ? q : q.where('c.delete_at', 0)))
      .select('c.*')
      .orderBy('c.display_name')) as ChannelRow[];
    sendJson(ctx, 200, rows.map(presentChannel));
  });

  router.get('/users/:user_id/teams/:team_id/channels/members', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = selfOnly(actor, ctx.params);
    const teamId = idParam(ctx.params, 'team_id');
    const rows = (await db('channel_members as cm')
      .join('channels as c', 'c.id', 'cm.channel_id')
      .where('cm.user_id', userId)
      .where((q) => q.where('c.team_id', teamId).orWhere('c.team_id', ''))
      .select('cm.*')) as ChannelMemberRow[];
    sendJson(ctx, 200, rows.map(presentChannelMember));
  });

  router.get('/users/:user_id/channels', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = selfOnly(actor, ctx.params);
    const rows = (await db('channels as c').join('channel_members as cm', 'cm.channel_id', 'c.id').where({ 'cm.user_id': userId, 'c.delete_at': 0 }).select('c.*').orderBy('c.display_name')) as ChannelRow[];
    sendJson(ctx, 200, rows.map(presentChannel));
  });

  router.get('/users/:user_id/channels/:channel_id/unread', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    selfOnly(actor, ctx.params);
    const { channel, channelMember } = await authorizeChannel(db, actor, idParam(ctx.params, 'channel_id'), 'read_channel');
    sendJson(ctx, 200, {
      team_id: channel.team_id, channel_id: channel.id,
      msg_count: Math.max(0, channel.total_msg_count - (channelMember?.msg_count ?? 0)),
      mention_count: channelMember?.mention_count ?? 0, last_viewed_at: channelMember?.last_viewed_at ?? 0,
    });
  });

  router.get('/teams/:team_id/channels', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'list_team_channels', resource);
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    const rows = (await db('channels').where({ team_id: team.id, type: 'O', delete_at: 0 }).orderBy('display_name').offset(page * per_page).limit(per_page)) as ChannelRow[];
    sendJson(ctx, 200, rows.map(presentChannel));
  });

  router.get('/teams/:team_id/channels/deleted', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'list_team_channels', resource);
    const rows = (await db('channels').where({ team_id: team.id, type: 'O' }).where('delete_at', '>', 0).orderBy('display_name')) as ChannelRow[];
    sendJson(ctx, 200, rows.map(presentChannel));
  });

  const channelByName = async (actor: Actor, teamId: string, name: string, includeDeleted: boolean) => {
    const row = await db('channels').where({ team_id: teamId, name }).first('id', 'delete_at');
    if (!row || (row.delete_at > 0 && !includeDeleted)) throw new NotFoundError('app.channel.get_by_name.missing.app_error', 'Channel does not exist.');
    return (await authorizeChannel(db, actor, row.id, 'read_channel')).channel;
  };

  router.get('/teams/:team_id/channels/name/:channel_name', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const channel = await channelByName(actor, idParam(ctx.params, 'team_id'), ctx.params.channel_name, ctx.query.include_deleted === 'true');
    sendJson(ctx, 200, presentChannel(channel));
  });

  router.get('/teams/name/:team_name/channels/name/:channel_name', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const team = await db('teams').where({ name: ctx.params.team_name }).first('id');
    if (!team) throw new NotFoundError('app.team.get_by_name.missing.app_error', 'We could not find the team.');
    const channel = await channelByName(actor, team.id, ctx.params.channel_name, ctx.query.include_deleted === 'true');
    sendJson(ctx, 200, presentChannel(channel));
  });

  return router;
}
