import type { Knex } from 'knex';
import type { SessionPolicy } from '../server/auth/sessions.ts';
import type { Config } from '../server/config/schema.ts';
import type { Logger } from '../server/lib/logger.ts';
import type { EventBus } from '../server/realtime/events.ts';

/** What the identity services need from the server; built once per process. */
export interface IdentityDeps {
  config: Config;
  logger: Logger;
  /** Pool connected as the least-privileged application role. */
  db: Knex;
  events: EventBus;
  sessionPolicy: SessionPolicy;
  /** Closes a user's WebSockets (sessions revoked by the directory). */
  realtime: { disconnectUser(userId: string, reason?: string): number };
}

/** A sign-in refused for a reason the log and audit record name; the client sees a generic message. */
export class SsoRefusal extends Error {
  readonly reason: string;
  readonly subject?: string;
  constructor(reason: string, subject?: string) {
    super(`sign-in refused: ${reason}`);
    this.reason = reason;
    this.subject = subject;
  }
}

export type SsoService = 'saml' | 'ldap' | 'gitlab' | 'openid' | 'office365' | 'google';
