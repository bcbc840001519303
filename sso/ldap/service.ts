import type { Client } from 'ldapts';
import { revokeAllSessions, forgetCachedSessions } from '../../server/auth/sessions.ts';
import { inTransaction } from '../../server/db/transaction.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { ConflictError, ServiceUnavailableError } from '../../server/lib/errors.ts';
import { newId } from '../../server/lib/ids.ts';
import type { UserRow } from '../../server/users/presenter.ts';
import { auditIdentity } from '../audit.ts';
import { SsoRefusal, type IdentityDeps } from '../deps.ts';
import { setUserGroups, upsertGroups } from '../groups/sync.ts';
import { upsertExternalUser, type ExternalIdentity } from '../provision.ts';
import { recordRefusal, signInExternal } from '../signin.ts';
import { Directory, DirectoryUnavailable, resolveMemberships, type DirectoryGroup, type DirectoryUser } from './directory.ts';

export interface SyncResult {
  id: string;
  status: 'success' | 'error' | 'skipped';
  counts: Record<string, number>;
  error?: string;
}

// How long a node may hold the sync lease before another may take it over (a crashed node's run).
const LEASE_MS = 30 * 60_000;

/** LDAP / Active Directory: sign-in by binding as the user, and sync of users and groups. */
export class LdapService {
  private readonly deps: IdentityDeps;
  readonly directory: Directory;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(deps: IdentityDeps) {
    this.deps = deps;
    this.directory = new Directory(deps.config);
  }

  private async flags(client: Client, user: DirectoryUser): Promise<{ admin?: boolean; guest?: boolean }> {
    const { ldapAdminFilter, ldapGuestFilter } = this.deps.config;
    return {
      admin: ldapAdminFilter ? await this.directory.matches(client, user.dn, ldapAdminFilter) : undefined,
      guest: ldapGuestFilter ? await this.directory.matches(client, user.dn, ldapGuestFilter) : undefined,
    };
  }

  private identityOf(user: DirectoryUser, flags: { admin?: boolean; guest?: boolean }): ExternalIdentity {
    return { service: 'ldap', authData: user.id, email: user.email, username: user.username || user.login, firstName: user.firstName, lastName: user.lastName, ...flags };
  }

  /**
   * Password sign-in against the directory. Returns the provisioned user, or undefined (logged with the
   * reason) for an empty password, an unknown or ambiguous login id, or a refused bind. A directory that
   * cannot be used is a 503 for the client (which is not told where the directory is) and an audited
   * refusal with the reason for the operator.
   */
  async login(credentials: { loginId: string; password: string; ipAddress: string }): Promise<UserRow | undefined> {
    const { loginId, password, ipAddress } = credentials;
    try {
      if (!password) throw new SsoRefusal('empty password refused (an unauthenticated bind would succeed anonymously)', loginId);
      const found = await this.directory.asService(async (client) => {
        const user = await this.directory.findByLogin(client, loginId);
        if (!user) return undefined;
        const groups = resolveMemberships(await this.directory.allGroups(client))(user.dn);
        return { user, groups, flags: await this.flags(client, user) };
      });
      if (!found) throw new SsoRefusal('no single directory user has that login id', loginId);
      if (!(await this.directory.verifyPassword(found.user.dn, password))) throw new SsoRefusal('the directory refused the password', loginId);
      const { user } = await signInExternal(this.deps, {
        identity: this.identityOf(found.user, found.flags), groups: found.groups.map((g) => ({ remoteId: g.id, displayName: g.displayName })),
        groupSource: 'ldap', sessionProps: {}, ipAddress, withSession: false,
      });
      return user;
    } catch (err) {
      if (err instanceof DirectoryUnavailable) {
        this.deps.logger.error({ err, reason: err.reason }, `LDAP sign-in impossible: ${err.reason}`);
        await recordRefusal(this.deps, 'ldap', new SsoRefusal(`directory unavailable: ${err.reason}`, loginId), ipAddress);
        throw new ServiceUnavailableError('api.ldap.unavailable.app_error', 'The directory server (LDAP) cannot be reached, so directory accounts cannot sign in right now. Try again later or contact your administrator.');
      }
      if (!(err instanceof SsoRefusal)) throw err;
      await recordRefusal(this.deps, 'ldap', err, ipAddress);
      return undefined;
    }
  }

  /** Takes the cluster-wide sync lease; false when another node (or run) holds it. */
  private async takeLease(holder: string): Promise<boolean> {
    const now = nowMs();
    await this.deps.db('identity_sync_leases').insert({ source: 'ldap', holder: '', lease_until: 0 }).onConflict('source').ignore();
    const taken = await this.deps.db('identity_sync_leases').where({ source: 'ldap' }).where('lease_until', '<', now).update({ holder, lease_until: now + LEASE_MS }).returning('source');
    return taken.length === 1;
  }

  private async releaseLease(holder: string, success: boolean): Promise<void> {
    await this.deps.db('identity_sync_leases').where({ source: 'ldap', holder }).update({ lease_until: 0, ...(success ? { last_success_at: nowMs() } : {}) });
  }

  /**
   * One sync: creates and updates every directory user, sets their groups (which applies team, channel
   * and role links), and deactivates accounts the directory no longer has, revoking their sessions.
   * Refuses to deactivate anyone when the directory returns no users at all (a broken filter or base DN).
   */
  async sync(trigger: 'scheduled' | 'manual'): Promise<SyncResult> {
    const runId = newId();
    const holder = `${this.deps.config.nodeId}:${runId}`;
    if (!(await this.takeLease(holder))) {
      if (trigger === 'manual') throw new ConflictError('ent.ldap.syncronize.running', 'An LDAP synchronization is already running.');
      return { id: runId, status: 'skipped', counts: {} };
    }
    const counts = { users: 0, created: 0, updated: 0, deactivated: 0, groups: 0, errors: 0 };
    await this.deps.db('identity_sync_runs').insert({ id: runId, source: 'ldap', trigger, node_id: this.deps.config.nodeId, status: 'running', start_at: nowMs() });
    let result: SyncResult;
    let unavailable: DirectoryUnavailable | undefined;
    try {
      const { users, groups, flags } = await this.directory.asService(async (client) => {
        const users = await this.directory.allUsers(client);
        const groups = await this.directory.allGroups(client);
        const flags = new Map<string, { admin?: boolean; guest?: boolean }>();
        for (const u of users) flags.set(u.dn, await this.flags(client, u));
        return { users, groups, flags };
      });
      counts.users = users.length;
      counts.groups = groups.length;
      await this.applySync(users, groups, flags, counts);
      result = { id: runId, status: 'success', counts };
    } catch (err) {
      if (err instanceof DirectoryUnavailable) unavailable = err;
      const message = err instanceof SsoRefusal || err instanceof DirectoryUnavailable ? err.reason : (err as Error).message;
      this.deps.logger.error({ err, run_id: runId }, `LDAP sync failed: ${message}`);
      result = { id: runId, status: 'error', counts, error: message };
    }
    await this.deps.db('identity_sync_runs').where({ id: runId }).update({ status: result.status, finish_at: nowMs(), counts: JSON.stringify(counts), error: result.error ?? '' });
    await this.releaseLease(holder, result.status === 'success');
    await auditIdentity(this.deps.db, this.deps.logger, { event: 'directory_sync', source: 'ldap', trigger, counts, status: result.status, ...(result.error ? { error: result.error } : {}) });
    // Recorded as a failed run either way; whoever asked for it gets a 503 naming the reason.
    if (unavailable && trigger === 'manual') throw unavailable;
    return result;
  }

  private async applySync(users: DirectoryUser[], groups: DirectoryGroup[], flags: Map<string, { admin?: boolean; guest?: boolean }>, counts: Record<string, number>): Promise<void> {
    const active = (await this.deps.db('users').where({ auth_service: 'ldap', delete_at: 0 }).pluck('auth_data')) as string[];
    if (users.length === 0 && active.length > 0) {
      throw new SsoRefusal(`the directory returned no users; refusing to deactivate ${active.length} accounts (check the user filter and base DN)`);
    }
    const groupDeps = { events: this.deps.events, logger: this.deps.logger };
    const groupIds = await inTransaction(this.deps.db, (trx) => upsertGroups(trx, 'ldap', groups.map((g) => ({ remoteId: g.id, displayName: g.displayName }))));
    const membershipsOf = resolveMemberships(groups);
    const seen = new Set<string>();
    for (const entry of users) {
      seen.add(entry.id);
      try {
        await inTransaction(this.deps.db, async (trx, afterCommit) => {
          const before = await trx('users').where({ auth_service: 'ldap', auth_data: entry.id }).first('delete_at');
          const { user, created } = await upsertExternalUser(trx, this.identityOf(entry, flags.get(entry.dn) ?? {}), { reactivate: true });
          if (created) counts.created++;
          else counts.updated++;
          if (before && Number(before.delete_at) > 0) await auditIdentity(trx, this.deps.logger, { event: 'directory_user_reactivated', userId: user.id, source: 'ldap' });
          const ids = membershipsOf(entry.dn).map((g) => groupIds.get(g.id.slice(0, 512))).filter((id): id is string => Boolean(id));
          await setUserGroups(trx, groupDeps, afterCommit, { userId: user.id, source: 'ldap', groupIds: ids });
        });
      } catch (err) {
        counts.errors++;
        this.deps.logger.warn({ dn: entry.dn, reason: err instanceof SsoRefusal ? err.reason : (err as Error).message }, 'LDAP sync: user skipped');
      }
    }
    for (const authData of active) {
      if (seen.has(authData)) continue;
      await inTransaction(this.deps.db, async (trx, afterCommit) => {
        const [user] = await trx('users').where({ auth_service: 'ldap', auth_data: authData, delete_at: 0 }).update({ delete_at: nowMs(), update_at: nowMs() }).returning('id');
        if (!user) return;
        await revokeAllSessions(trx, user.id);
        await auditIdentity(trx, this.deps.logger, { event: 'directory_user_deactivated', userId: user.id, source: 'ldap' });
        afterCommit(() => {
          forgetCachedSessions(user.id);
          this.deps.realtime.disconnectUser(user.id, 'deactivated');
        });
        counts.deactivated++;
      });
    }
  }

  /** Starts the scheduler: each minute, the node that takes the lease syncs when the interval has passed. */
  startScheduler(): void {
    const interval = this.deps.config.ldapSyncIntervalMinutes * 60_000;
    if (interval === 0) return;
    const tick = async () => {
      try {
        const lease = await this.deps.db('identity_sync_leases').where({ source: 'ldap' }).first('last_success_at');
        if (nowMs() - Number(lease?.last_success_at ?? 0) >= interval) await this.sync('scheduled');
      } catch (err) {
        this.deps.logger.error({ err }, 'LDAP sync scheduler');
      }
    };
    const schedule = () => {
      if (this.stopped) return;
      // Jitter spreads the nodes' checks; the lease makes sure only one runs.
      this.timer = setTimeout(() => {
        this.running = tick().finally(schedule);
      }, 60_000 + Math.floor(Math.random() * 5_000));
      this.timer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
