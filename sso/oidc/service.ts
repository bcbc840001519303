import crypto from 'node:crypto';
import * as client from 'openid-client';
import { isLoopbackHost } from '../../server/config/identity.ts';
import { nowMs } from '../../server/lib/clock.ts';
import { ServiceUnavailableError } from '../../server/lib/errors.ts';
import { SsoRefusal, type IdentityDeps, type SsoService } from '../deps.ts';
import type { ExternalGroup } from '../groups/sync.ts';
import type { ExternalIdentity } from '../provision.ts';
import { safeRedirectPath } from '../redirect.ts';

// An authorization request must come back within this time.
const STATE_TTL_MS = 10 * 60_000;

export interface OidcSignIn {
  identity: ExternalIdentity;
  groups: ExternalGroup[] | undefined;
  sessionProps: Record<string, string>;
  redirectTo: string;
}

function sha256(value: string): string {
  return crypto.createHash('sha256').update(value).digest('hex');
}

/** The user key: issuer and subject together, so two providers' subjects never meet. */
export function oidcAuthData(issuer: string, subject: string): string {
  const plain = `${subject}@${issuer}`;
  return plain.length <= 256 ? plain : `sha256:${sha256(plain)}`;
}

/**
 * OpenID Connect relying party (openid-client): authorization code flow with PKCE (S256), state and
 * nonce always sent and checked, state bound to the browser that started the flow and consumed once
 * from PostgreSQL, and the ID token's signature verified even though it came from the token endpoint.
 */
export class OidcService {
  readonly service: SsoService;
  readonly redirectUri: string;
  private readonly deps: IdentityDeps;
  private configuration?: client.Configuration;

  constructor(deps: IdentityDeps) {
    this.deps = deps;
    this.service = deps.config.oidcService;
    this.redirectUri = `${deps.config.siteUrl}/signup/${this.service}/complete`;
  }

  /** Discovery; retried at the next sign-in when the provider cannot be reached at start. */
  async init(): Promise<void> {
    try {
      await this.client();
    } catch (err) {
      this.deps.logger.error({ err, issuer: this.deps.config.oidcIssuer }, 'OIDC: discovery failed; will retry at the next sign-in');
    }
  }

  private async client(): Promise<client.Configuration> {
    if (this.configuration) return this.configuration;
    const { config } = this.deps;
    const issuer = new URL(config.oidcIssuer!);
    // Plain http is accepted for a provider on this host only (config validation enforces it).
    const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    const configuration = await client.discovery(issuer, config.oidcClientId!, config.oidcClientSecret!, client.ClientSecretBasic(config.oidcClientSecret!), {
      execute: insecure ? [client.allowInsecureRequests] : [],
      timeout: 10,
    });
    // Decision: verify the ID token's signature against the issuer's JWKS even when it arrives over the
    // token endpoint's TLS (openid-client 6 skips this by default): TLS may end at a proxy we do not control.
    client.enableNonRepudiationChecks(configuration);
    this.configuration = configuration;
    return configuration;
  }

  /** Starts a sign-in: stores state, nonce and PKCE verifier; returns the provider URL and the browser binding. */
  async loginUrl(redirectTo: unknown): Promise<{ url: string; browserBinding: string }> {
    let configuration: client.Configuration;
    try {
      configuration = await this.client();
    } catch (err) {
      // The browser learns that the provider is down, not where it is; the operator reads why in the log.
      this.deps.logger.error({ err, issuer: this.deps.config.oidcIssuer }, `OIDC: the provider cannot be reached (${(err as Error).message})`);
      throw new ServiceUnavailableError('api.oauth.provider_unavailable.app_error', 'The sign-in provider cannot be reached right now. Try again later or contact your administrator.');
    }
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const browserBinding = crypto.randomBytes(24).toString('base64url');
    const now = nowMs();
    await this.deps.db('oidc_states').insert({
      state, nonce, code_verifier: verifier, browser_hash: sha256(browserBinding), redirect_to: safeRedirectPath(redirectTo), create_at: now, expires_at: now + STATE_TTL_MS,
    });
    await this.deps.db('oidc_states').where('expires_at', '<', now).delete();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: this.deps.config.oidcScopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, browserBinding };
  }

  /** Completes a sign-in from the provider's redirect; throws SsoRefusal naming the reason. */
  async callback(currentUrl: URL, browserBinding: string | undefined): Promise<OidcSignIn> {
    const error = currentUrl.searchParams.get('error');
    if (error) throw new SsoRefusal(`the provider answered ${error.slice(0, 64)}`);
    const state = currentUrl.searchParams.get('state');
    if (!state || state.length > 128) throw new SsoRefusal('the callback carries no state');
    // Consumed in one statement: a state is good for one callback, on one node.
    const [row] = await this.deps.db('oidc_states').where({ state }).delete().returning('*');
    if (!row) throw new SsoRefusal('state mismatch: unknown, expired or already used state');
    if (Number(row.expires_at) < nowMs()) throw new SsoRefusal('state mismatch: the sign-in took too long');
    if (!browserBinding || sha256(browserBinding) !== row.browser_hash) throw new SsoRefusal('state mismatch: the sign-in was started in another browser');
    const configuration = await this.client();
    let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
    try {
      tokens = await client.authorizationCodeGrant(configuration, new URL(currentUrl.search, this.redirectUri), {
        pkceCodeVerifier: row.code_verifier,
        expectedState: row.state,
        expectedNonce: row.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new SsoRefusal(`ID token or code refused: ${describe(err)}`);
    }
    const idClaims = tokens.claims();
    if (!idClaims || typeof idClaims.sub !== 'string' || !idClaims.sub) throw new SsoRefusal('the ID token has no subject');
    const issuer = configuration.serverMetadata().issuer;
    if (idClaims.iss !== issuer) throw new SsoRefusal('the ID token names another issuer');
    let claims: Record<string, unknown> = { ...idClaims };
    if (configuration.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        // The subject must match the ID token's; claims the ID token has win over userinfo's.
        const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims };
      } catch (err) {
        throw new SsoRefusal(`userinfo refused: ${describe(err)}`);
      }
    }
    return {
      identity: this.identityOf(issuer, idClaims.sub, claims),
      groups: this.groupsOf(claims),
      sessionProps: { type: 'oidc', oidc_issuer: issuer.slice(0, 256), oidc_subject: idClaims.sub.slice(0, 256) },
      redirectTo: safeRedirectPath(row.redirect_to),
    };
  }

  private identityOf(issuer: string, subject: string, claims: Record<string, unknown>): ExternalIdentity {
    const { config } = this.deps;
    const text = (name: string) => (name && typeof claims[name] === 'string' ? (claims[name] as string) : undefined);
    if (claims.email_verified === false) throw new SsoRefusal('the provider says the email address is not verified', subject);
    const email = text(config.oidcEmailClaim) ?? '';
    return {
      service: this.service, authData: oidcAuthData(issuer, subject), email, username: text(config.oidcUsernameClaim) ?? email,
      firstName: text(config.oidcFirstNameClaim), lastName: text(config.oidcLastNameClaim),
    };
  }

  private groupsOf(claims: Record<string, unknown>): ExternalGroup[] | undefined {
    const name = this.deps.config.oidcGroupsClaim;
    if (!name) return undefined;
    const value = claims[name];
    const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    return [...new Set(list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 512))].map((g) => ({ remoteId: g, displayName: g }));
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string } };
  return [e.code, e.message, e.cause?.message].filter(Boolean).join(': ').slice(0, 300);
}
