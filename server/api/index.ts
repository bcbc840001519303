import type { Router } from '@koa/router';
import type { AppState } from '../http/state.ts';
import type { Services } from '../services.ts';
import { webappRoutes } from '../http/webapp.ts';
import { metricsRoutes } from '../metrics/http.ts';
import { auditRoutes } from './audits/routes.ts';
import { auditVerifyRoutes } from './audits/verify-routes.ts';
import { botRoutes } from './bots/routes.ts';
import { channelRoutes } from './channels/routes.ts';
import { allChannelsRoutes } from './channels/all-channels.ts';
import { commandRoutes } from './commands/routes.ts';
import { dataRetentionRoutes } from './data-retention/routes.ts';
import { ediscoveryRoutes } from './ediscovery/routes.ts';
import { complianceRoutes } from './compliance/routes.ts';
import { complianceConsoleRoutes } from './compliance/console-routes.ts';
import { fileRoutes } from './files/routes.ts';
import { postFileHooks } from '../files/service.ts';
import { hookRoutes, incomingWebhookRootRoutes } from './hooks/routes.ts';
import { jobRoutes } from './jobs/routes.ts';
import { legalHoldRoutes } from './legal-holds/routes.ts';
import { jobTypes } from '../job-types.ts';
import { postRoutes } from './posts/routes.ts';
import { threadRoutes } from './threads/routes.ts';
import { draftRoutes } from './drafts/routes.ts';
import { searchRoutes } from './search/routes.ts';
import { clientConfigRoutes } from './system/client-config.ts';
import { systemRoutes } from './system/routes.ts';
import { systemAdminRoutes } from './system/admin.ts';
import { teamRoutes } from './teams/routes.ts';
import { teamRestoreRoutes } from './teams/restore.ts';
import { userRoutes } from './users/routes.ts';
import { userSearchRoutes } from './users/search.ts';
import { userTokenRoutes } from './users/tokens.ts';
import { groupRoutes } from './groups/routes.ts';
import { customGroupRoutes } from './groups/custom-routes.ts';
import { groupSyncableRoutes } from './groups/syncable-routes.ts';
import { minusGroupMembersRoutes } from './groups/minus-routes.ts';
import { groupListRoutes } from './groups/list-routes.ts';
import { ldapRoutes } from './ldap/routes.ts';
import { ldapSyncStatusRoutes } from './ldap/sync-status.ts';
import { oidcRootRoutes } from './oidc/routes.ts';
import { samlRootRoutes, samlRoutes } from './saml/routes.ts';

/** Every router mounted under /api/v4, in one readable list. */
export function apiRouters(services: Services): Router<AppState>[] {
  return [
    systemRoutes({ db: services.db, nodeId: services.config.nodeId }),
    clientConfigRoutes(services.config),
    systemAdminRoutes(services),
    userTokenRoutes(services), // before userRoutes, whose /users/:user_id would take /users/tokens
    userRoutes(services),
    userSearchRoutes(services),
    teamRoutes(services),
    teamRestoreRoutes(services),
    channelRoutes(services),
    allChannelsRoutes(services),
    postRoutes(services, postFileHooks),
    threadRoutes(services),
    draftRoutes(services),
    searchRoutes(services, postFileHooks),
    fileRoutes(services),
    botRoutes(services),
    hookRoutes(services),
    commandRoutes(services),
    samlRoutes(services),
    ldapRoutes(services),
    ldapSyncStatusRoutes(services),
    customGroupRoutes(services),
    groupListRoutes(services),
    groupSyncableRoutes(services), // before groupRoutes, whose /groups/:group_id/:syncable_type would take /groups/:group_id/stats
    groupRoutes(services),
    minusGroupMembersRoutes(services),
    jobRoutes(services, jobTypes),
    complianceRoutes(services),
    complianceConsoleRoutes(services, jobTypes),
    auditRoutes(services),
    auditVerifyRoutes(services),
    legalHoldRoutes(services),
    dataRetentionRoutes(services),
    ediscoveryRoutes(services),
  ];
}

/** Routers mounted at the site root. */
export function rootRouters(services: Services): Router<AppState>[] {
  // The web app answers every GET left over (its own router handles deep links): keep it last.
  const metrics = metricsRoutes(services.metrics, { enabled: services.config.metricsEnabled, token: services.config.metricsToken });
  return [incomingWebhookRootRoutes(services), samlRootRoutes(services), oidcRootRoutes(services), metrics, webappRoutes()];
}
