import { Router } from '@koa/router';
import type { Knex } from 'knex';
import { systemRolesOf, type Actor } from '../../auth/actor.ts';
import { passwordLogin } from '../../auth/login.ts';
import { LoginThrottle } from '../../auth/login-throttle.ts';
import { authorize } from '../../auth/policy.ts';
import { forgetCachedSessions, hashToken, revokeAllSessions, revokeSession, revokeToken } from '../../auth/sessions.ts';
import { actorOf, credentialOf, CSRF_COOKIE, SESSION_COOKIE, USER_COOKIE } from '../../http/authenticate.ts';
import { setCookies } from '../../http/cookies.ts';
import { sendSessionCredentials } from '../../http/login-session.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { userRoleUpdated } from '../../realtime/invalidation.ts';
import { bodyOf } from '../../http/validate.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import { nowMs } from '../../lib/clock.ts';
import type { Services } from '../../services.ts';
import { presentUser, type UserRow } from '../../users/presenter.ts';
import { findVisibleUser, visibleUsers, visibleUsersByIds } from '../../users/queries.ts';
import { createUser, getUser, normaliseRoles } from '../../users/service.ts';
import { openAudit, type AuditedRequest } from '../audited.ts';
import { idParam, queryOf, routeKit } from '../kit.ts';
import * as schema from './schema.ts';

/** `me` stands for the caller in user paths, as in Mattermost. */
export function userIdParam(params: Record<string, string>, actor: Actor): string {
  return params.user_id === 'me' ? actor.userId : idParam(params, 'user_id');
}

/** Acting on another user's account needs manage_users; on one's own, nothing more. */
function authorizeSelfOrManager(actor: Actor, userId: string): void {
  if (actor.userId !== userId) authorize(actor, 'manage_users', { kind: 'system' });
}

export function userRoutes(services: Services): Router<AppState> {
  const { db, config } = services;
  const kit = routeKit(services);
  const throttle = new LoginThrottle(db, { maxAttempts: config.loginMaxAttempts, windowMs: config.loginWindowMinutes * 60_000 }, services.logger);
  const router = new Router<AppState>();

  router.post('/users/login', kit.body(schema.loginBody), async (ctx) => {
    const body = bodyOf(schema.loginBody, ctx.state);
    const audit = openAudit(services, ctx, 'login', { objectType: 'session', parameters: { login_id: body.login_id, device_id: body.device_id, ldap_only: body.ldap_only } });
    const onSession = (trx: Knex.Transaction, { user, session }: { user: UserRow; session: { id: string } }) =>
      audit.actingUser(user.id, session.id).result({ user_id: user.id, session_id: session.id }).write(trx, 'success');
    const login = await passwordLogin(
      { db, throttle, lifetimeMs: services.sessionPolicy.lifetimeMs, disableLocalLoginForSso: config.disableLocalLoginForSso, directory: services.identity.directoryLogin, onSession },
      { loginId: body.login_id, password: body.password, deviceId: body.device_id, ipAddress: ctx.ip, ldapOnly: body.ldap_only === true || body.ldap_only === 'true' },
    ).catch(async (err: unknown) => {
      await audit.fail(err);
      throw err;
    });
    sendSessionCredentials(ctx, { secureCookies: config.secureCookies, lifetimeMs: services.sessionPolicy.lifetimeMs }, login);
    sendJson(ctx, 200, presentUser(login.user, 'system'));
  });

  router.post('/users/logout', async (ctx) => {
    // Logging out with a dead session still clears the browser's cookies.
    const credential = credentialOf(ctx);
    const session = credential && (await db('sessions').where({ token_hash: hashToken(credential.token) }).whereNull('access_token_id').first('id', 'user_id'));
    if (credential && session) {
      const audit = openAudit(services, ctx, 'logout', { objectType: 'session', parameters: { session_id: session.id } }).actingUser(session.user_id, session.id);
      const sessionId = await audit.run((trx) => revokeToken(trx, credential.token));
      if (sessionId) services.realtime.disconnectSession(sessionId, 'logout');
    }
    const gone = { httpOnly: false, secure: config.secureCookies, maxAgeSeconds: 0 };
    setCookies(ctx, [SESSION_COOKIE, USER_COOKIE, CSRF_COOKIE].map((name) => ({ name, value: '', options: { ...gone, httpOnly: name === SESSION_COOKIE } })));
    sendOk(ctx);
  });

  router.post('/users', async (ctx, next) => {
    // Open sign-up lets anyone register; otherwise only an authenticated user manager may create accounts.
    if (config.openSignup && !credentialOf(ctx)) return next();
    await kit.auth(ctx, async () => {
      try {
        authorize(actorOf(ctx.state), 'create_user', { kind: 'system' });
      } catch (err) {
        await openAudit(services, ctx, 'create_user', { objectType: 'user' }).fail(err);
        throw err;
      }
      await next();
    });
  }, kit.body(schema.createUserBody), async (ctx) => {
    const body = bodyOf(schema.createUserBody, ctx.state);
    const audit = openAudit(services, ctx, 'create_user', { objectType: 'user', parameters: body });
    const created = await audit.run(async (trx) => {
      const user = await createUser(trx, body);
      audit.result({ user_id: user.id, username: user.username, roles: user.roles });
      return user;
    });
    sendJson(ctx, 201, presentUser(created, ctx.state.actor ?? 'system'));
  });

  router.get('/users/me', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    // Authentication already read the caller's row; every change to a user drops cached copies.
    sendJson(ctx, 200, presentUser(ctx.state.user ?? (await getUser(db, actor.userId)), actor));
  });

  router.get('/users', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const { page, per_page } = queryOf(schema.pagingQuery, ctx.query);
    const query = visibleUsers(db, actor).orderBy('users.username').offset(page * per_page).limit(per_page);
    const inTeam = ctx.query.in_team;
    const inChannel = ctx.query.in_channel;
    const notInChannel = ctx.query.not_in_channel;
    if (typeof inTeam === 'string') query.whereIn('users.id', db('team_members').where({ team_id: inTeam, delete_at: 0 }).select('user_id'));
    if (typeof inChannel === 'string') query.whereIn('users.id', db('channel_members').where({ channel_id: inChannel }).select('user_id'));
    if (typeof notInChannel === 'string') query.whereNotIn('users.id', db('channel_members').where({ channel_id: notInChannel }).select('user_id'));
    if (ctx.query.active === 'true') query.where('users.delete_at', 0);
    if (ctx.query.inactive === 'true') query.where('users.delete_at', '>', 0);
    const rows: UserRow[] = await query;
    sendJson(ctx, 200, rows.map((r) => presentUser(r, actor)));
  });

  router.post('/users/ids', kit.auth, kit.body(schema.idListBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const rows = await visibleUsersByIds(db, actor, bodyOf(schema.idListBody, ctx.state));
    sendJson(ctx, 200, rows.map((r) => presentUser(r, actor)));
  });

  router.post('/users/usernames', kit.auth, kit.body(schema.usernameListBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const names = bodyOf(schema.usernameListBody, ctx.state).map((n) => n.toLowerCase());
    const rows: UserRow[] = await visibleUsers(db, actor).whereRaw('lower(users.username) = ANY(?)', [names]);
    sendJson(ctx, 200, rows.map((r) => presentUser(r, actor)));
  });

  router.get('/users/username/:username', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const row = await findVisibleUser(db, actor, (q) => q.whereRaw('lower(users.username) = ?', [ctx.params.username.toLowerCase()]));
    sendJson(ctx, 200, presentUser(row, actor));
  });

  router.get('/users/email/:email', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const row = await findVisibleUser(db, actor, (q) => q.whereRaw('lower(users.email) = ?', [ctx.params.email.toLowerCase()]));
    sendJson(ctx, 200, presentUser(row, actor));
  });

  router.get('/users/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    sendJson(ctx, 200, presentUser(await findVisibleUser(db, actor, (q) => q.where('users.id', id)), actor));
  });

  router.put('/users/:user_id/patch', kit.auth, kit.body(schema.patchUserBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    const patch = bodyOf(schema.patchUserBody, ctx.state);
    const audit = openAudit(services, ctx, 'update_user', { objectType: 'user', parameters: { user_id: id, ...patch } });
    const row = await audit.run(async (trx) => {
      authorizeSelfOrManager(actor, id);
      await getUser(trx, id);
      const [updated] = await trx('users').where({ id }).update({ ...patch, update_at: nowMs() }).returning('*');
      return updated;
    });
    // Sessions cache their user's row (GET /users/me answers from it).
    forgetCachedSessions(id);
    sendJson(ctx, 200, presentUser(row, actor));
  });

  router.put('/users/:user_id/roles', kit.auth, kit.body(schema.updateRolesBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    const requested = bodyOf(schema.updateRolesBody, ctx.state).roles;
    const audit = openAudit(services, ctx, 'update_user_roles', { objectType: 'user', parameters: { user_id: id, roles: requested } });
    const effective = await audit.run(async (trx) => {
      authorize(actor, 'manage_system', { kind: 'system' });
      const roles = normaliseRoles(requested);
      const target = await getUser(trx, id);
      audit.prior({ roles: target.roles }).result({ roles });
      await trx('users').where({ id }).update({ roles, update_at: nowMs() });
      // Sessions carry the roles they were issued with; make new roles take effect now.
      await trx('sessions').where({ user_id: id }).update({ roles });
      return systemRolesOf({ roles, group_roles: target.group_roles });
    });
    forgetCachedSessions(id);
    services.events.publish(userRoleUpdated(id, effective));
    sendOk(ctx);
  });

  const setActive = async (ctx: AuditedRequest, actor: Actor, id: string, active: boolean) => {
    const audit = openAudit(services, ctx, 'update_user_active', { objectType: 'user', parameters: { user_id: id, active } });
    await audit.run(async (trx) => {
      authorize(actor, 'manage_users', { kind: 'system' });
      const target = await getUser(trx, id);
      if (target.roles.includes('system_admin') && !actor.roles.has('system_admin')) {
        throw new ForbiddenError('api.context.permissions.app_error', 'Only a system admin can change another system admin.');
      }
      audit.prior({ delete_at: target.delete_at });
      await trx('users').where({ id }).update({ delete_at: active ? 0 : nowMs(), update_at: nowMs() });
      if (!active) await revokeAllSessions(trx, id);
    });
    forgetCachedSessions(id);
    if (!active) services.realtime.disconnectUser(id, 'deactivated');
  };

  router.put('/users/:user_id/active', kit.auth, kit.body(schema.updateActiveBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    await setActive(ctx, actor, userIdParam(ctx.params, actor), bodyOf(schema.updateActiveBody, ctx.state).active);
    sendOk(ctx);
  });

  router.delete('/users/:user_id', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    await setActive(ctx, actor, userIdParam(ctx.params, actor), false);
    sendOk(ctx);
  });

  router.get('/users/:user_id/sessions', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    if (actor.userId !== id) authorize(actor, 'revoke_user_sessions', { kind: 'system' });
    const rows = await db('sessions').where({ user_id: id }).orderBy('create_at', 'desc');
    sendJson(ctx, 200, rows.map((s) => ({
      id: s.id, create_at: s.create_at, expires_at: s.expires_at, last_activity_at: s.last_activity_at, user_id: s.user_id,
      device_id: s.device_id, roles: s.roles, is_oauth: s.is_oauth, props: s.props,
    })));
  });

  router.post('/users/:user_id/sessions/revoke', kit.auth, kit.body(schema.sessionIdBody), async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    const { session_id } = bodyOf(schema.sessionIdBody, ctx.state);
    const audit = openAudit(services, ctx, 'revoke_session', { objectType: 'session', parameters: { user_id: id, session_id } });
    const owned = await audit.run(async (trx) => {
      if (actor.userId !== id) authorize(actor, 'revoke_user_sessions', { kind: 'system' });
      const row = await trx('sessions').where({ id: session_id, user_id: id }).first('id');
      if (row) await revokeSession(trx, session_id);
      audit.result({ revoked: Boolean(row) });
      return row;
    });
    if (owned) services.realtime.disconnectSession(session_id, 'revoked');
    sendOk(ctx);
  });

  router.post('/users/:user_id/sessions/revoke/all', kit.auth, async (ctx) => {
    const actor = actorOf(ctx.state);
    const id = userIdParam(ctx.params, actor);
    const audit = openAudit(services, ctx, 'revoke_all_sessions', { objectType: 'session', parameters: { user_id: id } });
    await audit.run(async (trx) => {
      if (actor.userId !== id) authorize(actor, 'revoke_user_sessions', { kind: 'system' });
      audit.result({ revoked: await revokeAllSessions(trx, id) });
    });
    services.realtime.disconnectUser(id, 'revoked');
    sendOk(ctx);
  });

  return router;
}
