import { Router } from '@koa/router';
import type { Config } from '../../config/schema.ts';
import { authorize } from '../../auth/policy.ts';
import { availableMigrations } from '../../db/migrate.ts';
import { actorOf } from '../../http/authenticate.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import type { Services } from '../../services.ts';
import { routeKit } from '../kit.ts';

const OIDC_SECTIONS = { openid: 'OpenIdSettings', gitlab: 'GitLabSettings', google: 'GoogleSettings', office365: 'Office365Settings' } as const;

/**
 * The single sign-on sections of Mattermost's admin configuration, from an allow-list: names,
 * switches and public addresses only. Secrets (bind password, client secret, keys) are never sent,
 * not even masked, and everything else is left out rather than invented.
 */
export function presentSsoConfig(config: Config): Record<string, Record<string, unknown>> {
  const ldap = config.ldapUrl ? new URL(config.ldapUrl) : undefined;
  const ldaps = ldap?.protocol === 'ldaps:';
  const oidc = {
    Enable: config.oidcEnable,
    Id: config.oidcClientId ?? '',
    DiscoveryEndpoint: config.oidcIssuer ? `${config.oidcIssuer.replace(/\/+$/, '')}/.well-known/openid-configuration` : '',
    Scope: config.oidcScopes,
  };
  const sections: Record<string, Record<string, unknown>> = {
    ServiceSettings: { SiteURL: config.siteUrl },
    SamlSettings: {
      Enable: config.samlEnable,
      IdpMetadataURL: config.samlIdpMetadataUrl ?? '',
      ServiceProviderIdentifier: config.samlSpEntityId ?? `${config.siteUrl}/login/sso/saml`,
      AssertionConsumerServiceURL: `${config.siteUrl}/login/sso/saml`,
    },
    LdapSettings: {
      Enable: config.ldapEnable,
      EnableSync: config.ldapEnable && config.ldapSyncIntervalMinutes > 0,
      LdapServer: ldap?.hostname ?? '',
      LdapPort: ldap ? Number(ldap.port || (ldaps ? 636 : 389)) : 0,
      ConnectionSecurity: ldaps ? 'TLS' : config.ldapStartTls ? 'STARTTLS' : '',
      BaseDN: config.ldapBaseDn ?? '',
      SyncIntervalMinutes: config.ldapSyncIntervalMinutes,
    },
  };
  for (const [service, section] of Object.entries(OIDC_SECTIONS)) {
    sections[section] = service === config.oidcService ? oidc : { Enable: false };
  }
  return sections;
}

/** Read-only server facts for system admins: `GET /config` (SSO sections) and `GET /system/migrations` (the schema version and the migrations behind it). */
export function systemAdminRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/config', kit.auth, (ctx) => {
    authorize(actorOf(ctx.state), 'manage_system', { kind: 'system' });
    sendJson(ctx, 200, presentSsoConfig(services.config));
  });

  router.get('/system/migrations', kit.auth, async (ctx) => {
    authorize(actorOf(ctx.state), 'manage_system', { kind: 'system' });
    // The server applies every migration it ships before it serves a request (runtime.ts), so what
    // it ships is what the database has; schema_migrations itself is withheld from the request role.
    const migrations = await availableMigrations();
    sendJson(ctx, 200, { schema_version: migrations.at(-1) ?? '', migrations });
  });

  return router;
}
