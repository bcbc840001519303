import { Router } from '@koa/router';
import type { Knex } from 'knex';
import type { Actor } from '../../auth/actor.ts';
import { authorize, can, type Resource } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { bodyOf } from '../../http/validate.ts';
import { ForbiddenError, NotFoundError } from '../../lib/errors.ts';
import { nowMs } from '../../lib/clock.ts';
import type { Services } from '../../services.ts';
import { presentTeam, presentTeamMember, type TeamMemberRow, type TeamRow } from '../../teams/model.ts';
import { addTeamMember, createTeam, getTeamAndMember, getTeamMember, removeTeamMember } from '../../teams/service.ts';
import { assertMayJoin, assertMayRemove, teamSyncable } from '../../groups/constraints.ts';
import { openAudit } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import { pagingQuery } from '../users/schema.ts';
import { userIdParam } from '../users/routes.ts';
import * as schema from './schema.ts';

/** A team and the actor's membership in it, as a policy resource. 404 for a team the actor may not know. */
export async function loadTeamAccess(db: Knex, actor: Actor, teamId: string): Promise<{ team: TeamRow; member?: TeamMemberRow; resource: Resource }> {
  const { team, member } = await getTeamAndMember(db, teamId, actor.userId);
  const active = member && member.delete_at === 0 ? member : undefined;
  const resource: Resource = { kind: 'team', teamMember: active };
  const visible = active || team.type === 'O' || can(actor, 'manage_system', resource) || can(actor, 'read_other_users_teams', resource);
  if (!visible || team.delete_at > 0 && !can(actor, 'manage_system', resource)) throw new NotFoundError('app.team.get.find.app_error', 'We could not find the team.');
  return { team, member: active, resource };
}

export function teamRoutes(services: Services): Router<AppState> {
  const { db, events } = services;
  const kit = routeKit(services);
  const router = new Router<AppState>();
  const showInvite = (actor: Actor, resource: Resource) => can(actor, 'add_user_to_team', resource) || can(actor, 'manage_team', resource);

  router.post('/teams', kit.auth, kit.body(schema.createTeamBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const body = bodyOf(schema.createTeamBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_team', { objectType: 'team', parameters: body });
    const team = await audit.run(async (trx, afterCommit) => {
      authorize(actor, 'create_team', { kind: 'system' });
      const created = await createTeam(trx, { events }, afterCommit, actor, body);
      audit.result({ team_id: created.id, name: created.name, type: created.type });
      return created;
    });
    sendJson(ctx, 201, presentTeam(team, true));
  });

  router.get('/teams', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    const query = db('teams').orderBy('display_name').offset(page * per_page).limit(per_page);
    // Archived teams are listed for system admins who ask (the console restores them), as in Mattermost.
    if (!(ctx.query.include_deleted === 'true' && can(actor, 'manage_system', { kind: 'system' }))) query.where({ delete_at: 0 });
    if (!can(actor, 'manage_system', { kind: 'system' })) {
      query.where((q) => q.where({ allow_open_invite: true, type: 'O' }).orWhereIn('id', db('team_members').where({ user_id: actor.userId, delete_at: 0 }).select('team_id')));
    }
    const rows = (await query) as TeamRow[];
    sendJson(ctx, 200, rows.map((t) => presentTeam(t, can(actor, 'manage_system', { kind: 'system' }))));
  });

  router.get('/teams/name/:name', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const row = await db('teams').where({ name: ctx.params.name }).first('id');
    if (!row) throw new NotFoundError('app.team.get_by_name.missing.app_error', 'We could not find the team.');
    const { team, resource } = await loadTeamAccess(db, actor, row.id);
    sendJson(ctx, 200, presentTeam(team, showInvite(actor, resource)));
  });

  router.get('/teams/:team_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    sendJson(ctx, 200, presentTeam(team, showInvite(actor, resource)));
  });

  router.put('/teams/:team_id/patch', kit.auth, kit.body(schema.patchTeamBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const patch = bodyOf(schema.patchTeamBody, ctx.state);
    const audit = openAudit(services, ctx, 'patch_team', { objectType: 'team', parameters: { team_id: teamId, ...patch } });
    const { team, row } = await audit.run(async (trx) => {
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      authorize(actor, 'manage_team', resource);
      const [row] = await trx('teams').where({ id: team.id }).update({ ...patch, update_at: nowMs() }).returning('*');
      return { team, row };
    });
    events.publish({ event: 'update_team', data: { team: JSON.stringify(presentTeam(row, false)) }, broadcast: { team_id: team.id } });
    sendJson(ctx, 200, presentTeam(row, true));
  });

  router.delete('/teams/:team_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const audit = openAudit(services, ctx, 'delete_team', { objectType: 'team', parameters: { team_id: teamId } });
    const team = await audit.run(async (trx) => {
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      authorize(actor, 'manage_team', resource);
      // Archiving only: a team's messages stay for compliance; permanent deletion is retention's job.
      await trx('teams').where({ id: team.id }).update({ delete_at: nowMs(), update_at: nowMs() });
      return team;
    });
    events.publish({ event: 'delete_team', data: { team: JSON.stringify(presentTeam(team, false)) }, broadcast: { team_id: team.id } });
    sendOk(ctx);
  });

  router.get('/users/:user_id/teams', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = userIdParam(ctx.params, actor);
    if (userId !== actor.userId) authorize(actor, 'read_other_users_teams', { kind: 'system' });
    const rows = (await db('teams as t').join('team_members as tm', 'tm.team_id', 't.id').where({ 'tm.user_id': userId, 'tm.delete_at': 0, 't.delete_at': 0 }).select('t.*').orderBy('t.display_name')) as TeamRow[];
    sendJson(ctx, 200, rows.map((t) => presentTeam(t, false)));
  });

  router.get('/users/:user_id/teams/members', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const userId = userIdParam(ctx.params, actor);
    if (userId !== actor.userId) authorize(actor, 'read_other_users_teams', { kind: 'system' });
    const rows = (await db('team_members').where({ user_id: userId, delete_at: 0 })) as TeamMemberRow[];
    sendJson(ctx, 200, rows.map(presentTeamMember));
  });

  router.get('/teams/:team_id/members', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'view_team', resource);
    const { page, per_page } = queryOf(pagingQuery, ctx.query);
    const rows = (await db('team_members').where({ team_id: team.id, delete_at: 0 }).orderBy('user_id').offset(page * per_page).limit(per_page)) as TeamMemberRow[];
    sendJson(ctx, 200, rows.map(presentTeamMember));
  });

  router.get('/teams/:team_id/members/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { team, resource } = await loadTeamAccess(db, actor, idParam(ctx.params, 'team_id'));
    authorize(actor, 'view_team', resource);
    const member = await getTeamMember(db, team.id, userIdParam(ctx.params, actor));
    if (!member || member.delete_at > 0) throw new NotFoundError('app.team.get_member.missing.app_error', 'That user is not a member of the team.');
    sendJson(ctx, 200, presentTeamMember(member));
  });

  router.post('/teams/:team_id/members', kit.auth, kit.body(schema.addTeamMemberBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const { user_id } = bodyOf(schema.addTeamMemberBody, ctx.state);
    const audit = openAudit(services, ctx, 'add_team_member', { objectType: 'team_member', parameters: { team_id: teamId, user_id } });
    const member = await audit.run(async (trx, afterCommit) => {
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      // Joining an open team yourself needs join_public_teams; adding anyone else needs add_user_to_team.
      const selfJoin = user_id === actor.userId && team.type === 'O' && team.allow_open_invite && can(actor, 'join_public_teams', { kind: 'system' });
      if (!selfJoin) authorize(actor, 'add_user_to_team', resource);
      if (team.delete_at > 0) throw new ForbiddenError('api.team.add_user_to_team.archived', 'The team is archived.');
      await assertMayJoin(trx, teamSyncable(team), [user_id]);
      return addTeamMember(trx, { events }, afterCommit, { team, userId: user_id });
    });
    sendJson(ctx, 201, presentTeamMember(member));
  });

  router.delete('/teams/:team_id/members/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const userId = userIdParam(ctx.params, actor);
    const audit = openAudit(services, ctx, 'remove_team_member', { objectType: 'team_member', parameters: { team_id: teamId, user_id: userId } });
    await audit.run(async (trx, afterCommit) => {
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      if (userId !== actor.userId) authorize(actor, 'remove_user_from_team', resource);
      await assertMayRemove(trx, teamSyncable(team), { actorId: actor.userId, userId });
      await removeTeamMember(trx, { events }, afterCommit, { team, userId, removerId: actor.userId });
    });
    sendOk(ctx);
  });

  router.put('/teams/:team_id/members/:user_id/schemeRoles', kit.auth, kit.body(schema.updateSchemeRolesBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const teamId = idParam(ctx.params, 'team_id');
    const userId = userIdParam(ctx.params, actor);
    const roles = bodyOf(schema.updateSchemeRolesBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_team_member_roles', { objectType: 'team_member', parameters: { team_id: teamId, user_id: userId, ...roles } });
    const team = await audit.run(async (trx) => {
      const { team, resource } = await loadTeamAccess(trx, actor, teamId);
      authorize(actor, 'manage_team_roles', resource);
      const updated = await trx('team_members').where({ team_id: team.id, user_id: userId, delete_at: 0, scheme_guest: false }).update(roles);
      if (!updated) throw new NotFoundError('app.team.get_member.missing.app_error', 'That user is not a member of the team.');
      return team;
    });
    events.publish({ event: 'memberrole_updated', data: { team_id: team.id, user_id: userId }, broadcast: { user_id: userId } });
    sendOk(ctx);
  });

  return router;
}
