import { Router } from '@koa/router';
import type { Config } from '../../config/schema.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { InvalidInputError } from '../../lib/errors.ts';
import { compatibleMattermostVersion, version } from '../../lib/version.ts';
import { MAX_MESSAGE_CHARS } from '../../posts/model.ts';

/**
 * What a client may know before signing in, in Mattermost's `format=old` shape (every value a string).
 * The sign-in page reads it to decide which ways to sign in it offers.
 */
export function clientConfig(config: Config): Record<string, string> {
  const flag = (on: boolean) => (on ? 'true' : 'false');
  const oidc = config.oidcEnable ? config.oidcService : undefined;
  return {
    Version: compatibleMattermostVersion,
    BuildNumber: `custodian-${version}`,
    SiteName: 'Custodian',
    SiteURL: config.siteUrl,
    EnableSignInWithEmail: 'true',
    EnableSignInWithUsername: 'true',
    EnableSignUpWithEmail: flag(config.openSignup),
    EnableOpenServer: flag(config.openSignup),
    // Single sign-on (sso/): SAML at /login/sso/saml, OpenID Connect at /oauth/<service>/login.
    EnableSaml: flag(config.samlEnable),
    SamlLoginButtonText: 'SAML',
    EnableSignUpWithOpenId: flag(oidc === 'openid'),
    OpenIdButtonText: 'OpenID Connect',
    EnableSignUpWithGitLab: flag(oidc === 'gitlab'),
    EnableSignUpWithGoogle: flag(oidc === 'google'),
    EnableSignUpWithOffice365: flag(oidc === 'office365'),
    EnableLdap: flag(config.ldapEnable),
    EnableFileAttachments: 'true',
    MaxFileSize: String(config.maxFileBytes),
    MaxPostSize: String(MAX_MESSAGE_CHARS),
    EnableCustomEmoji: 'false',
    ExperimentalEnableAuthenticationTransfer: 'false',
  };
}

/** `GET /config/client?format=old`, public like Mattermost's. The new format is not implemented there either. */
export function clientConfigRoutes(config: Config): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/config/client', (ctx) => {
    if (ctx.query.format !== 'old') throw new InvalidInputError('api.config.client.old_format.app_error', 'New format for the client configuration is not supported yet. Please specify format=old.');
    ctx.set('Cache-Control', 'no-cache');
    sendJson(ctx, 200, clientConfig(config));
  });
  return router;
}
