import type { Knex } from 'knex';
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import { nowMs } from '../../server/lib/clock.ts';

/**
 * node-saml's cache of AuthnRequest ids we issued, kept in PostgreSQL so that whichever node receives
 * the response can check its InResponseTo. Entries are single-use (removed when a response consumes
 * them) and expire after `ttlMs`.
 */
export class PgRequestCache implements CacheProvider {
  private readonly db: Knex;
  private readonly ttlMs: number;

  constructor(db: Knex, ttlMs: number) {
    this.db = db;
    this.ttlMs = ttlMs;
  }

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const now = nowMs();
    await this.db('saml_requests').insert({ id: key.slice(0, 256), value, create_at: now, expires_at: now + this.ttlMs });
    // Expired rows are useless; prune a few as we go instead of running a separate job.
    await this.db('saml_requests').where('expires_at', '<', now).delete();
    return { value, createdAt: now };
  }

  async getAsync(key: string): Promise<string | null> {
    if (!key || key.length > 256) return null;
    const row = await this.db('saml_requests').where({ id: key }).where('expires_at', '>', nowMs()).first('value');
    return row ? (row.value as string) : null;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key || key.length > 256) return null;
    const gone = (await this.db('saml_requests').where({ id: key }).delete().returning('id')) as { id: string }[];
    return gone.length ? key : null;
  }
}
