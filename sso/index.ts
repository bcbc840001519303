/**
 * Identity: SAML 2.0, OpenID Connect and LDAP sign-in, directory group sync. The server uses this
 * face only: `createIdentity` at boot, the services for routes, `directoryLogin` for POST /users/login.
 */
import type { DirectoryLogin } from '../server/auth/login.ts';
import type { IdentityDeps } from './deps.ts';
import { LdapService } from './ldap/service.ts';
import { OidcService } from './oidc/service.ts';
import { SamlService } from './saml/service.ts';

export type { IdentityDeps } from './deps.ts';
export { SsoRefusal } from './deps.ts';
export { signInExternal, recordRefusal } from './signin.ts';
export { groupGrantableRoles, reconcileGroupMembers, reconcileSyncable, reconcileUser, type GroupSource } from './groups/sync.ts';
export type { SamlService } from './saml/service.ts';
export type { OidcService } from './oidc/service.ts';
export type { LdapService, SyncResult } from './ldap/service.ts';

export interface Identity {
  deps: IdentityDeps;
  saml?: SamlService;
  oidc?: OidcService;
  ldap?: LdapService;
  /** Set when LDAP is enabled: POST /users/login checks directory accounts through it. */
  directoryLogin?: DirectoryLogin;
  /** Loads keys and metadata, runs OIDC discovery, starts the LDAP sync scheduler. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the enabled identity services; nothing touches the network or disk until `start()`. */
export function createIdentity(deps: IdentityDeps): Identity {
  const { config } = deps;
  const saml = config.samlEnable ? new SamlService(deps) : undefined;
  const oidc = config.oidcEnable ? new OidcService(deps) : undefined;
  const ldap = config.ldapEnable ? new LdapService(deps) : undefined;
  return {
    deps,
    saml,
    oidc,
    ldap,
    directoryLogin: ldap ? (credentials) => ldap.login(credentials) : undefined,
    async start() {
      await saml?.init();
      await oidc?.init();
      ldap?.startScheduler();
    },
    async stop() {
      await ldap?.stop();
    },
  };
}
