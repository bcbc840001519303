import { Router } from '@koa/router';
import { authorize } from '../../auth/policy.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson, sendOk } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { nowMs } from '../../lib/clock.ts';
import { invalidParam, NotFoundError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Services } from '../../services.ts';
import { reconcileGroupMembers, type LdapService, type SyncResult } from '../../../sso/index.ts';
import { openAudit } from '../audited.ts';
import { routeKit } from '../kit.ts';

// POST /ldap/sync answers with the result when the sync ends within this time, else while it goes on.
const SYNC_WAIT_MS = 25_000;

/** Mattermost's /ldap API: on-demand sync and the directory's groups. */
export function ldapRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();
  const ldapOf = (): LdapService => {
    if (!services.identity.ldap) throw new NotFoundError('api.ldap.not_enabled.app_error', 'LDAP is not configured on this server.');
    return services.identity.ldap;
  };
  const remoteIdParam = (value: string | undefined) => {
    if (!value || value.length > 512) throw invalidParam('remote_id');
    return value;
  };

  router.post('/ldap/sync', kit.auth, async (ctx) => {
    // Who asked for the run (and who was refused); the run itself is recorded as directory_sync.
    const audit = openAudit(services, ctx, 'sync_ldap', { objectType: 'directory_sync' });
    await audit.run(async () => authorize(actorOf(ctx.state), 'sync_directory', { kind: 'system' }));
    const ldap = ldapOf();
    const run = ldap.sync('manual');
    const result = await Promise.race([run, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), SYNC_WAIT_MS).unref())]);
    if (!result) run.catch((err) => services.logger.error({ err }, 'LDAP sync'));
    sendJson(ctx, 200, { status: 'OK', ...(result ? { run: result satisfies SyncResult } : { running: true }) });
  });

  router.get('/ldap/groups', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
    const ldap = ldapOf();
    const groups = await ldap.directory.asService((client) => ldap.directory.allGroups(client));
    const linked = await services.db('groups').where({ source: 'ldap' }).whereIn('remote_id', groups.map((g) => g.id.slice(0, 512))).select('id', 'remote_id', 'delete_at');
    const byRemote = new Map(linked.map((g) => [g.remote_id, g]));
    const syncables = linked.length ? await services.db('group_syncables').whereIn('group_id', linked.map((g) => g.id)).where({ delete_at: 0 }).distinct().pluck('group_id') : [];
    sendJson(ctx, 200, {
      count: groups.length,
      groups: groups.map((g) => {
        const row = byRemote.get(g.id);
        const active = row && Number(row.delete_at) === 0;
        return { primary_key: g.id, name: g.displayName, mattermost_group_id: active ? row.id : null, has_syncables: Boolean(active && syncables.includes(row.id)) };
      }),
    });
  });

  router.post('/ldap/groups/:remote_id/link', kit.auth, async (ctx) => {
    const remoteId = remoteIdParam(ctx.params.remote_id);
    const audit = openAudit(services, ctx, 'link_ldap_group', { objectType: 'group', parameters: { remote_id: remoteId } });
    const row = await audit.run(async (trx) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      const ldap = ldapOf();
      const groups = await ldap.directory.asService((client) => ldap.directory.allGroups(client));
      const found = groups.find((g) => g.id === remoteId);
      if (!found) throw new NotFoundError('api.ldap.group_not_found', 'The directory has no such group.');
      const now = nowMs();
      const [stored] = await trx('groups')
        .insert({ id: newId(), source: 'ldap', remote_id: remoteId, display_name: found.displayName.slice(0, 128), create_at: now, update_at: now })
        .onConflict(['source', 'remote_id']).merge({ delete_at: 0, update_at: now, display_name: found.displayName.slice(0, 128) })
        .returning('*');
      audit.result({ group_id: stored.id });
      return stored;
    });
    sendJson(ctx, 201, { id: row.id, display_name: row.display_name, source: 'ldap', remote_id: row.remote_id });
  });

  router.delete('/ldap/groups/:remote_id/link', kit.auth, async (ctx) => {
    const remoteId = remoteIdParam(ctx.params.remote_id);
    const audit = openAudit(services, ctx, 'unlink_ldap_group', { objectType: 'group', parameters: { remote_id: remoteId } });
    await audit.run(async (trx, afterCommit) => {
      authorize(actorOf(ctx.state), 'manage_groups', { kind: 'system' });
      ldapOf();
      const [row] = await trx('groups').where({ source: 'ldap', remote_id: remoteId, delete_at: 0 }).update({ delete_at: nowMs(), update_at: nowMs() }).returning('id');
      if (!row) throw new NotFoundError('api.ldap.group_not_linked', 'That group is not linked.');
      // An unlinked group no longer grants roles or keeps anyone in a group-constrained team or channel.
      await reconcileGroupMembers(trx, { events: services.events, logger: services.logger }, afterCommit, row.id);
    });
    sendOk(ctx);
  });

  return router;
}
