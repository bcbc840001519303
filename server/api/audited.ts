// Audit records for API handlers (style habit 8): a handler opens its record before the permission
// check, the action and the success record commit in one transaction, and a failure (a denial
// included) is recorded on its own after the rollback. If the audit write fails, so does the action.
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor.ts';
import { can, type Resource } from '../auth/policy.ts';
import { recordAudit, type AuditActor, type AuditError, type AuditMeta, type AuditStatus } from '../../audit/index.ts';
import { translatePgError } from '../db/pg-errors.ts';
import { inTransaction, type AfterCommit } from '../db/transaction.ts';
import { statusOf } from '../http/middleware/error-handler.ts';
import type { AppState } from '../http/state.ts';
import { AppError } from '../lib/errors.ts';
import type { Services } from '../services.ts';

/** What the audit needs from a koa context. */
export interface AuditedRequest {
  state: AppState;
  path: string;
  ip: string;
  get(header: string): string;
}

/** The actor and meta parts of a record, from the request (an unauthenticated request has no user). */
export function auditContext(ctx: AuditedRequest, nodeId: string): { actor: AuditActor; meta: AuditMeta } {
  const a = ctx.state.actor;
  const actor = a
    ? { user_id: a.userId, session_id: a.sessionId, ip_address: a.ipAddress, user_agent: a.userAgent }
    : { user_id: '', session_id: '', ip_address: ctx.ip, user_agent: ctx.get('User-Agent') };
  // The path only: a query string may carry ?access_token=.
  return { actor, meta: { api_path: ctx.path, node_id: nodeId } };
}

/** The error part of an audit record for what a failed action threw. */
export function auditErrorOf(err: unknown): AuditError {
  const e = translatePgError(err);
  if (e instanceof AppError) return { id: e.id, description: e.message, status_code: statusOf(e) };
  return { id: 'api.context.internal_error.app_error', description: 'internal error', status_code: 500 };
}

/** One audited action of a request. */
export class AuditEntry {
  private readonly services: Services;
  private readonly eventName: string;
  private readonly actor: AuditActor;
  private readonly meta: AuditMeta;
  private objectType: string;
  private readonly parameters: Record<string, unknown>;
  private priorState: Record<string, unknown> = {};
  private resultingState: Record<string, unknown> = {};
  private failureRecorded = false;

  constructor(services: Services, ctx: AuditedRequest, eventName: string, init: { objectType?: string; parameters?: Record<string, unknown> }) {
    this.services = services;
    this.eventName = eventName;
    ({ actor: this.actor, meta: this.meta } = auditContext(ctx, services.config.nodeId));
    this.objectType = init.objectType ?? '';
    this.parameters = { ...init.parameters };
  }

  /** Adds request parameters (secrets are redacted when the record is written). */
  param(values: Record<string, unknown>): this {
    Object.assign(this.parameters, values);
    return this;
  }

  prior(state: Record<string, unknown>): this {
    Object.assign(this.priorState, state);
    return this;
  }

  result(state: Record<string, unknown>): this {
    Object.assign(this.resultingState, state);
    return this;
  }

  /** The acting user, when the request only reveals it on the way (a sign-in). */
  actingUser(userId: string, sessionId = ''): this {
    this.actor.user_id = userId;
    if (sessionId) this.actor.session_id = sessionId;
    return this;
  }

  /** Writes the record with `status` through `db` (a transaction, or a connection for its own). */
  async write(db: Knex | Knex.Transaction, status: AuditStatus, error?: AuditError): Promise<void> {
    await recordAudit(db, {
      event_name: this.eventName, status, actor: this.actor, meta: this.meta, error,
      event: { parameters: this.parameters, prior_state: this.priorState, resulting_state: this.resultingState, object_type: this.objectType },
    });
  }

  /**
   * Runs `work` in a transaction and writes the success record in it, before COMMIT. When anything
   * throws (a denial, a missing object, the audit write itself), the transaction rolls back, the
   * failure is recorded on its own, and the error goes on to the client.
   */
  async run<T>(work: (trx: Knex.Transaction, afterCommit: AfterCommit) => Promise<T>): Promise<T> {
    try {
      return await inTransaction(this.services.db, async (trx, afterCommit) => {
        const result = await work(trx, afterCommit);
        await this.write(trx, 'success');
        return result;
      });
    } catch (err) {
      await this.fail(err);
      throw err;
    }
  }

  /** Records a failed or denied attempt on its own. Never masks the original error. */
  async fail(err: unknown): Promise<void> {
    if (this.failureRecorded) return;
    this.failureRecorded = true;
    try {
      await this.write(this.services.db, 'fail', auditErrorOf(err));
    } catch (auditErr) {
      this.services.logger.error({ err: auditErr, event_name: this.eventName }, 'could not record a failed attempt in the audit log');
    }
  }

  /** Records success on its own (for reads, which change nothing to roll back). Throws if it cannot. */
  async succeed(): Promise<void> {
    await this.write(this.services.db, 'success');
  }
}

/** Opens the audit record of a request's action; call it before the permission check. */
export function openAudit(services: Services, ctx: AuditedRequest, eventName: string, init: { objectType?: string; parameters?: Record<string, unknown> } = {}): AuditEntry {
  return new AuditEntry(services, ctx, eventName, init);
}

/**
 * True when the actor may read the channel only through a system-wide role (a system admin who is
 * not a member, or a member of a team where the channel is private): reading other users' messages.
 */
export function readsAsPrivileged(actor: Actor, resource: Resource): boolean {
  const ordinary = new Set([...actor.roles].filter((role) => role === 'system_user' || role === 'system_guest'));
  return !can({ ...actor, roles: ordinary }, 'read_channel', resource);
}

/** Records `read_other_users_messages` when the read is privileged; the read fails if that cannot be written. */
export async function auditPrivilegedRead(services: Services, ctx: AuditedRequest, access: { channel: { id: string }; resource: Resource }, parameters: Record<string, unknown> = {}): Promise<void> {
  const actor = ctx.state.actor;
  if (!actor || !readsAsPrivileged(actor, access.resource)) return;
  await openAudit(services, ctx, 'read_other_users_messages', { objectType: 'channel', parameters: { channel_id: access.channel.id, ...parameters } }).succeed();
}
