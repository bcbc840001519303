import { Router } from '@koa/router';
import { setCookies } from '../../http/cookies.ts';
import { sendSessionCredentials } from '../../http/login-session.ts';
import type { AppState } from '../../http/state.ts';
import { NotFoundError, UnauthenticatedError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { recordRefusal, signInExternal, type OidcService } from '../../../sso/index.ts';

/** Holds the random value that binds an authorization request to the browser that started it. */
export const OIDC_BINDING_COOKIE = 'MMOAUTHBINDING';

/**
 * OpenID Connect at Mattermost's paths: /oauth/{service}/login starts, /signup/{service}/complete (and
 * /oauth/{service}/complete) finishes. {service} is the configured one: openid, gitlab, office365, google.
 */
export function oidcRootRoutes(services: Services): Router<AppState> {
  const router = new Router<AppState>();
  const { config } = services;
  const oidcFor = (service: string): OidcService => {
    const oidc = services.identity.oidc;
    if (!oidc || oidc.service !== service) throw new NotFoundError('api.user.oauth.not_enabled.app_error', 'That sign-in service is not configured on this server.');
    return oidc;
  };

  router.get('/oauth/:service/login', async (ctx) => {
    const oidc = oidcFor(ctx.params.service);
    const { url, browserBinding } = await oidc.loginUrl(ctx.query.redirect_to);
    setCookies(ctx, [{ name: OIDC_BINDING_COOKIE, value: browserBinding, options: { httpOnly: true, secure: config.secureCookies, maxAgeSeconds: 600 } }]);
    ctx.redirect(url);
  });

  const complete = async (ctx: Parameters<Parameters<typeof router.get>[1]>[0]) => {
    const oidc = oidcFor(ctx.params.service);
    let signIn;
    try {
      const result = await oidc.callback(new URL(ctx.originalUrl, config.siteUrl), ctx.cookies.get(OIDC_BINDING_COOKIE));
      const login = await signInExternal(services.identity.deps, { ...result, groupSource: 'oidc', ipAddress: ctx.ip, withSession: true });
      signIn = { ...login, redirectTo: result.redirectTo };
    } catch (err) {
      await recordRefusal(services.identity.deps, oidc.service, err, ctx.ip);
      throw new UnauthenticatedError('api.user.oauth.login_failed.app_error', 'Sign-in failed. Contact your administrator if this keeps happening.');
    } finally {
      setCookies(ctx, [{ name: OIDC_BINDING_COOKIE, value: '', options: { httpOnly: true, secure: config.secureCookies, maxAgeSeconds: 0 } }]);
    }
    sendSessionCredentials(ctx, { secureCookies: config.secureCookies, lifetimeMs: services.sessionPolicy.lifetimeMs }, { user: signIn.user, session: signIn.session!, token: signIn.token! });
    ctx.redirect(signIn.redirectTo);
  };
  router.get('/signup/:service/complete', complete);
  router.get('/oauth/:service/complete', complete);

  return router;
}
