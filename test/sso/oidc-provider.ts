import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface Account {
  sub: string;
  email: string;
  email_verified?: boolean;
  preferred_username: string;
  given_name?: string;
  family_name?: string;
  groups?: string[];
}

type Jwt = { header: Record<string, unknown>; payload: Record<string, unknown> };

function b64url(value: Buffer | string): string {
  return Buffer.from(value).toString('base64url');
}

/** Signs a JWT with RS256 (tests that re-sign tampered ID tokens). */
export function signJwt(jwt: Jwt, key: crypto.KeyObject): string {
  const input = `${b64url(JSON.stringify(jwt.header))}.${b64url(JSON.stringify(jwt.payload))}`;
  return `${input}.${b64url(crypto.sign('sha256', Buffer.from(input), key))}`;
}

export function decodeJwt(token: string): Jwt {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()) };
}

/**
 * A real OpenID provider (oidc-provider) in the test process on a free loopback port. Sign-in
 * interactions finish at once as `currentAccount`; `tamper`, when set, rewrites the ID token in the
 * token endpoint's answer (the attack tests), with the provider's own key at hand to re-sign it.
 */
export class TestOidcProvider {
  readonly key: crypto.KeyObject;
  readonly kid = 'test-key-1';
  issuer = '';
  currentAccount = '';
  accounts = new Map<string, Account>();
  tamper?: (idToken: string) => string;
  private server?: http.Server;

  constructor() {
    this.key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  }

  async start(options: { clientId: string; clientSecret: string; redirectUri: string }): Promise<void> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    // "localhost", not 127.0.0.1: the test browser keeps the provider's cookies apart from the app's.
    this.issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
    const jwk = { ...this.key.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig' };
    const accounts = this.accounts;
    const provider = new Provider(this.issuer, {
      clients: [{ client_id: options.clientId, client_secret: options.clientSecret, redirect_uris: [options.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
      jwks: { keys: [jwk as never] },
      findAccount: async (_ctx, id) => {
        const account = accounts.get(id);
        return account ? { accountId: id, claims: async () => ({ ...account }) } : undefined;
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'given_name', 'family_name'], groups: ['groups'] },
      scopes: ['openid', 'email', 'profile', 'groups'],
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      // First-party client: no consent screen.
      loadExistingGrant: async (ctx) => {
        const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
        grant.addOIDCScope('openid email profile groups');
        await grant.save();
        return grant;
      },
      cookies: { keys: ['test-cookie-key-0123456789'] },
    });
    const callback = provider.callback();
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      void (async () => {
        if (req.url?.startsWith('/interaction/')) {
          await provider.interactionDetails(req, res);
          await provider.interactionFinished(req, res, { login: { accountId: this.currentAccount } }, { mergeWithLastSubmission: false });
          return;
        }
        if (req.method === 'POST' && req.url === '/token' && this.tamper) this.rewriteTokenResponse(res, this.tamper);
        callback(req, res);
      })().catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  }

  private rewriteTokenResponse(res: http.ServerResponse, tamper: (idToken: string) => string): void {
    const chunks: Buffer[] = [];
    const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
    res.write = ((chunk: unknown) => {
      chunks.push(Buffer.from(chunk as Buffer));
      return true;
    }) as typeof res.write;
    res.end = ((chunk?: unknown) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer));
      const body = JSON.parse(Buffer.concat(chunks).toString());
      if (body.id_token) body.id_token = tamper(body.id_token);
      const text = JSON.stringify(body);
      res.setHeader('Content-Length', Buffer.byteLength(text));
      return end(text);
    }) as typeof res.end;
  }

  /** Re-signs an ID token after `change` with the provider's key (or another). */
  resign(idToken: string, change: (jwt: Jwt) => void, key: crypto.KeyObject = this.key): string {
    const jwt = decodeJwt(idToken);
    change(jwt);
    return signJwt(jwt, key);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
  }
}
