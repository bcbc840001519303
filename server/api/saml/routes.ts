import { Router } from '@koa/router';
import { revokeSession } from '../../auth/sessions.ts';
import { actorOf, CSRF_COOKIE, SESSION_COOKIE, USER_COOKIE } from '../../http/authenticate.ts';
import { readRawBody, decodeUtf8 } from '../../http/body.ts';
import { setCookies } from '../../http/cookies.ts';
import { sendSessionCredentials } from '../../http/login-session.ts';
import { sendJson } from '../../http/respond.ts';
import type { AppState } from '../../http/state.ts';
import { NotFoundError, UnauthenticatedError, UnsupportedMediaTypeError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { recordRefusal, signInExternal, type SamlService } from '../../../sso/index.ts';
import { routeKit } from '../kit.ts';

const notEnabled = () => new NotFoundError('api.saml.not_enabled.app_error', 'SAML 2.0 is not configured or supported on this server.');

function samlOf(services: Services): SamlService {
  const saml = services.identity.saml;
  if (!saml) throw notEnabled();
  return saml;
}

/** /api/v4/saml: the SP metadata (public, as in Mattermost) and SP-initiated logout. */
export function samlRoutes(services: Services): Router<AppState> {
  const kit = routeKit(services);
  const router = new Router<AppState>();

  router.get('/saml/metadata', async (ctx) => {
    const saml = samlOf(services);
    ctx.status = 200;
    ctx.set('Content-Type', 'application/xml');
    ctx.body = saml.metadataXml();
  });

  // SP-initiated logout: ends this session here, then sends the browser to the IdP with a signed
  // LogoutRequest (when the IdP has single logout). A POST with the CSRF token, never a GET.
  router.post('/saml/logout', kit.auth, async (ctx) => {
    const saml = samlOf(services);
    const actor = actorOf(ctx.state);
    const session = await services.db('sessions').where({ id: actor.sessionId }).first('props');
    await revokeSession(services.db, actor.sessionId);
    services.realtime.disconnectSession(actor.sessionId, 'logout');
    const gone = { httpOnly: false, secure: services.config.secureCookies, maxAgeSeconds: 0 };
    setCookies(ctx, [SESSION_COOKIE, USER_COOKIE, CSRF_COOKIE].map((name) => ({ name, value: '', options: { ...gone, httpOnly: name === SESSION_COOKIE } })));
    const url = session?.props?.type === 'saml' ? await saml.logoutUrl(session.props) : undefined;
    sendJson(ctx, 200, { status: 'OK', redirect_url: url ?? '/login' });
  });

  return router;
}

/** Site-root SAML endpoints at Mattermost's paths: start (GET) and ACS (POST) at /login/sso/saml. */
export function samlRootRoutes(services: Services): Router<AppState> {
  const router = new Router<AppState>();
  const { config } = services;

  router.get('/login/sso/saml', async (ctx) => {
    const saml = samlOf(services);
    ctx.redirect(await saml.loginUrl(ctx.query.redirect_to));
  });

  router.post('/login/sso/saml', async (ctx) => {
    const saml = samlOf(services);
    const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') throw new UnsupportedMediaTypeError('api.context.unsupported_media_type.app_error', 'The ACS expects an HTTP-POST binding form.');
    const form = new URLSearchParams(decodeUtf8(await readRawBody(ctx, 1024 * 1024)));
    let signIn;
    try {
      const result = await saml.consume(form.get('SAMLResponse') ?? undefined, form.get('RelayState') ?? undefined);
      const login = await signInExternal(services.identity.deps, { ...result, groupSource: 'saml', ipAddress: ctx.ip, withSession: true });
      signIn = { ...login, redirectTo: result.redirectTo };
    } catch (err) {
      await recordRefusal(services.identity.deps, 'saml', err, ctx.ip);
      throw new UnauthenticatedError('api.user.saml.login_failed.app_error', 'SAML sign-in failed. Contact your administrator if this keeps happening.');
    }
    sendSessionCredentials(ctx, { secureCookies: config.secureCookies, lifetimeMs: services.sessionPolicy.lifetimeMs }, { user: signIn.user, session: signIn.session!, token: signIn.token! });
    ctx.redirect(signIn.redirectTo);
  });

  // Where the IdP sends the browser back after single logout.
  router.get('/login/sso/saml/logout', async (ctx) => {
    samlOf(services);
    ctx.redirect('/login');
  });

  return router;
}
