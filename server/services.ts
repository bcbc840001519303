import path from 'node:path';
import type { Knex } from 'knex';
import type { SessionPolicy } from './auth/sessions.ts';
import type { Config } from './config/schema.ts';
import { LocalFileStore } from './files/local-store.ts';
import type { FileStore } from './files/storage.ts';
import type { Logger } from './lib/logger.ts';
import { EventBus } from './realtime/events.ts';
import { Hub } from './realtime/hub.ts';
import { ServerMetrics } from './metrics/registry.ts';
import { createIdentity, type Identity } from '../sso/index.ts';
import { AuditService } from '../audit/index.ts';

/** The long-lived objects request handlers and jobs use; built once per server process. */
export interface Services {
  config: Config;
  logger: Logger;
  /** Pool connected as the least-privileged application role. */
  db: Knex;
  sessionPolicy: SessionPolicy;
  /** Committed changes travel from services to WebSocket clients through here. */
  events: EventBus;
  /**
   * WebSocket connections and event routing (started by `attachWebSocket`). After revoking sessions or
   * deactivating a user, call `realtime.disconnectUser(userId)` or `realtime.disconnectSession(sessionId)`.
   */
  realtime: Hub;
  /** Where uploaded file contents live (`<dataDir>/files`). */
  files: FileStore;
  /** SAML, OIDC and LDAP sign-in and group sync (sso/); `start()`ed by the runtime. */
  identity: Identity;
  /**
   * Prometheus metrics served at /metrics. Background jobs report run times with
   * `metrics.jobDuration.observe({ type, status }, seconds)`.
   */
  metrics: ServerMetrics;
  /** The tamper-evident audit log's background work (sealing, checkpoints, streams); `start()`ed by the runtime. */
  audit: AuditService;
  close(): Promise<void>;
}

export function buildServices(base: { config: Config; logger: Logger; db: Knex }): Services {
  const { config } = base;
  const services = {
    ...base,
    sessionPolicy: {
      lifetimeMs: config.sessionLifetimeHours * 3600_000,
      idleTimeoutMs: config.sessionIdleTimeoutMinutes * 60_000,
    },
    events: new EventBus(),
    files: new LocalFileStore(path.join(config.dataDir, 'files')),
    audit: new AuditService({
      db: base.db, logger: base.logger, dataDir: config.dataDir, nodeId: config.nodeId,
      checkpointEveryRecords: config.auditCheckpointRecords, checkpointEveryMinutes: config.auditCheckpointMinutes,
      streamFile: config.auditStreamFile, streamMaxBytes: config.auditStreamMaxBytes, streamMaxFiles: config.auditStreamMaxFiles,
      syslogUrl: config.auditSyslogUrl, syslogCaFile: config.auditSyslogCaFile,
    }),
    async close() {},
  };
  const realtime = new Hub(services);
  const metrics = new ServerMetrics({ db: base.db, hub: () => realtime.stats() });
  realtime.observeDelivery = (event, lagMs, frames) => metrics.observeDelivery(event, lagMs, frames);
  return { ...services, realtime, metrics, identity: createIdentity({ ...services, realtime }) };
}
