import type { Knex } from 'knex';
import { RateLimitedError } from '../lib/errors.ts';
import { nowMs } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';

export interface ThrottlePolicy {
  maxAttempts: number;
  windowMs: number;
}

// An address may fail for several accounts (a shared NAT) but not without limit: credential stuffing.
const IP_MULTIPLIER = 5;

/**
 * Login rate limiting kept in PostgreSQL, so every node enforces the same limits. Failures are counted
 * per login id and per client address within a sliding window; a success clears the login id's count.
 */
export class LoginThrottle {
  private readonly db: Knex;
  private readonly policy: ThrottlePolicy;
  private readonly logger: Logger;

  constructor(db: Knex, policy: ThrottlePolicy, logger: Logger) {
    this.db = db;
    this.policy = policy;
    this.logger = logger;
  }

  /** Throws RateLimitedError (429) while the login id or the address is locked out. */
  async check(loginId: string, ipAddress: string): Promise<void> {
    const since = nowMs() - this.policy.windowMs;
    const key = loginId.toLowerCase();
    const [row] = await this.db('login_failures')
      .where('at', '>', since)
      .andWhere((q) => q.where({ login_key: key }).orWhere({ ip_address: ipAddress }))
      .select(
        this.db.raw('count(*) FILTER (WHERE login_key = ?)::int AS by_login', [key]),
        this.db.raw('count(*) FILTER (WHERE ip_address = ?)::int AS by_ip', [ipAddress]),
      );
    if (row.by_login >= this.policy.maxAttempts || row.by_ip >= this.policy.maxAttempts * IP_MULTIPLIER) {
      this.logger.warn({ login_id: key, ip_address: ipAddress, failures_by_login: row.by_login, failures_by_ip: row.by_ip }, 'login locked out');
      throw new RateLimitedError('api.user.login.rate_limited.app_error', 'Too many failed login attempts. Try again later.', Math.ceil(this.policy.windowMs / 1000));
    }
  }

  async recordFailure(loginId: string, ipAddress: string): Promise<void> {
    await this.db('login_failures').insert({ login_key: loginId.toLowerCase().slice(0, 128), ip_address: ipAddress.slice(0, 64), at: nowMs() });
    // Old rows are useless; prune them as we go instead of running a separate job.
    await this.db('login_failures').where('at', '<', nowMs() - this.policy.windowMs * 4).delete();
  }

  async recordSuccess(loginId: string): Promise<void> {
    await this.db('login_failures').where({ login_key: loginId.toLowerCase() }).delete();
  }
}
