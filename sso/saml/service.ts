import { generateServiceProviderMetadata, SAML, ValidateInResponseTo, type SamlConfig } from '@node-saml/node-saml';
import fs from 'node:fs';
import { nowMs } from '../../server/lib/clock.ts';
import { SsoRefusal, type IdentityDeps } from '../deps.ts';
import type { ExternalGroup } from '../groups/sync.ts';
import { certBody, loadOrCreateKeyPair, type KeyPair } from '../keys.ts';
import type { ExternalIdentity } from '../provision.ts';
import { safeRedirectPath } from '../redirect.ts';
import { checkResponseStructure, checkVerifiedAssertion, type Expectations } from './checks.ts';
import { parseIdpMetadata, type IdpMetadata } from './metadata.ts';
import { PgRequestCache } from './request-cache.ts';

// A base64 SAMLResponse larger than this is refused before decoding.
const MAX_RESPONSE_BASE64 = 512 * 1024;
// An AuthnRequest must be answered within this time.
const REQUEST_TTL_MS = 10 * 60_000;
// Metadata fetched from a URL is re-read this often.
const METADATA_REFRESH_MS = 3600_000;

/** The outcome of a valid SAML response: who signed in, their groups, and session details. */
export interface SamlSignIn {
  identity: ExternalIdentity;
  groups: ExternalGroup[] | undefined;
  sessionProps: Record<string, string>;
  redirectTo: string;
}

/**
 * The SAML 2.0 service provider: SP metadata, signed AuthnRequests (HTTP-Redirect), and the ACS that
 * accepts only responses passing node-saml's signature checks plus our own (see checks.ts).
 */
export class SamlService {
  readonly acsUrl: string;
  readonly entityId: string;
  readonly logoutCallbackUrl: string;
  private readonly deps: IdentityDeps;
  private keys?: KeyPair;
  private idp?: { metadata: IdpMetadata; loadedAt: number; saml: SAML };

  constructor(deps: IdentityDeps) {
    this.deps = deps;
    const { siteUrl, samlSpEntityId } = deps.config;
    this.acsUrl = `${siteUrl}/login/sso/saml`;
    this.entityId = samlSpEntityId ?? `${siteUrl}/login/sso/saml`;
    this.logoutCallbackUrl = `${siteUrl}/login/sso/saml/logout`;
  }

  /** Loads (or generates, at first start) the SP key pair and reads the IdP metadata. */
  async init(): Promise<void> {
    const { config } = this.deps;
    this.keys = await loadOrCreateKeyPair(this.deps.db, this.deps.logger, { keyFile: config.samlSpKeyFile, certFile: config.samlSpCertFile, dataDir: config.dataDir, name: 'saml-sp', commonName: new URL(config.siteUrl).hostname });
    try {
      await this.provider();
    } catch (err) {
      // A file is ours to get right at boot; a URL may be briefly unreachable, so it is retried on use.
      if (config.samlIdpMetadataFile) throw new Error(`${config.samlIdpMetadataFile}: ${(err as Error).message}`, { cause: err });
      this.deps.logger.error({ err }, 'SAML: cannot read the IdP metadata yet; will retry at the next sign-in');
    }
  }

  private async provider(): Promise<{ metadata: IdpMetadata; saml: SAML }> {
    const { config } = this.deps;
    if (this.idp && (config.samlIdpMetadataFile || nowMs() - this.idp.loadedAt < METADATA_REFRESH_MS)) return this.idp;
    let xml: string;
    if (config.samlIdpMetadataFile) xml = fs.readFileSync(config.samlIdpMetadataFile, 'utf8');
    else {
      const res = await fetch(config.samlIdpMetadataUrl!, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
      if (!res.ok) throw new Error(`IdP metadata URL answered ${res.status}`);
      xml = await res.text();
    }
    const metadata = parseIdpMetadata(xml);
    const keys = this.keys!;
    const options: SamlConfig = {
      callbackUrl: this.acsUrl,
      entryPoint: metadata.ssoUrl,
      issuer: this.entityId,
      audience: this.entityId,
      idpIssuer: metadata.entityId,
      // Only the certificates from the metadata are trusted; a certificate inside a response's KeyInfo never is.
      idpCert: metadata.signingCerts,
      privateKey: keys.key,
      publicCert: keys.cert,
      decryptionPvk: keys.key,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      acceptedClockSkewMs: config.samlClockSkewSeconds * 1000,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      cacheProvider: new PgRequestCache(this.deps.db, REQUEST_TTL_MS),
      logoutUrl: metadata.sloUrl || metadata.ssoUrl,
      logoutCallbackUrl: this.logoutCallbackUrl,
      identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      disableRequestedAuthnContext: true,
    };
    this.idp = { metadata, loadedAt: nowMs(), saml: new SAML(options) };
    return this.idp;
  }

  /** Our SP metadata: entity id, ACS (HTTP-POST), SLO, and the certificate for signing and encryption. */
  metadataXml(): string {
    const keys = this.keys!;
    return generateServiceProviderMetadata({
      issuer: this.entityId,
      callbackUrl: this.acsUrl,
      logoutCallbackUrl: this.logoutCallbackUrl,
      identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
      wantAssertionsSigned: true,
      // node-saml lists a certificate only when it also holds the matching key.
      decryptionCert: keys.cert,
      decryptionPvk: keys.key,
      publicCerts: keys.cert,
      privateKey: keys.key,
      signatureAlgorithm: 'sha256',
      digestAlgorithm: 'sha256',
    });
  }

  /** The SP certificate (PEM), for tests and admins who configure the IdP by hand. */
  certificate(): string {
    return this.keys!.cert;
  }

  /** Where to send the browser to start a sign-in: the IdP with a signed AuthnRequest (RSA-SHA256). */
  async loginUrl(redirectTo: unknown): Promise<string> {
    const { saml } = await this.provider();
    return saml.getAuthorizeUrlAsync(safeRedirectPath(redirectTo), undefined, {});
  }

  /** Validates a POSTed SAMLResponse; throws SsoRefusal naming the reason when anything is wrong. */
  async consume(samlResponse: unknown, relayState: unknown): Promise<SamlSignIn> {
    if (typeof samlResponse !== 'string' || samlResponse.length === 0) throw new SsoRefusal('no SAMLResponse in the request');
    if (samlResponse.length > MAX_RESPONSE_BASE64) throw new SsoRefusal('the SAMLResponse is too large');
    if (!/^[A-Za-z0-9+/=\r\n]+$/.test(samlResponse)) throw new SsoRefusal('the SAMLResponse is not base64');
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    const { metadata, saml } = await this.provider();
    const expect: Expectations = { acsUrl: this.acsUrl, idpEntityId: metadata.entityId, decryptionKey: this.keys!.key, clockSkewMs: this.deps.config.samlClockSkewSeconds * 1000 };
    const facts = await checkResponseStructure(xml, expect);
    let assertionXml: string;
    try {
      const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse });
      if (!profile) throw new Error('no profile in the response');
      assertionXml = profile.getAssertionXml?.() ?? '';
    } catch (err) {
      if (err instanceof SsoRefusal) throw err;
      throw new SsoRefusal(`node-saml: ${(err as Error).message}`);
    }
    const assertion = checkVerifiedAssertion(assertionXml, expect, facts);
    await this.consumeAssertionId(assertion.id, assertion.issuer, assertion.notOnOrAfter);
    return {
      identity: this.identityOf(assertion.nameId, assertion.nameIdFormat, assertion.attributes),
      groups: this.groupsOf(assertion.attributes),
      sessionProps: { type: 'saml', saml_name_id: assertion.nameId.slice(0, 256), saml_name_id_format: assertion.nameIdFormat.slice(0, 256), saml_session_index: assertion.sessionIndex.slice(0, 256) },
      redirectTo: safeRedirectPath(relayState),
    };
  }

  /** An assertion is accepted once: its id is kept until it would have expired anyway. */
  private async consumeAssertionId(id: string, issuer: string, notOnOrAfter: number): Promise<void> {
    if (!id || id.length > 256) throw new SsoRefusal('the assertion has no usable ID');
    const now = nowMs();
    const inserted = await this.deps.db('saml_assertions')
      .insert({ id, issuer: issuer.slice(0, 1024), received_at: now, expires_at: notOnOrAfter + this.deps.config.samlClockSkewSeconds * 1000 })
      .onConflict('id').ignore().returning('id');
    if (inserted.length === 0) throw new SsoRefusal(`the assertion ${id} was already used (replay)`);
    await this.deps.db('saml_assertions').where('expires_at', '<', now).delete();
  }

  private identityOf(nameId: string, nameIdFormat: string, attributes: Map<string, string[]>): ExternalIdentity {
    const { config } = this.deps;
    const first = (name: string) => (name ? attributes.get(name)?.[0] : undefined);
    const authData = config.samlIdAttribute ? first(config.samlIdAttribute) : nameId;
    if (!authData) throw new SsoRefusal(`the assertion has no ${config.samlIdAttribute} attribute (the user id)`);
    const email = first(config.samlEmailAttribute) ?? (nameIdFormat.endsWith(':emailAddress') ? nameId : '');
    const flag = (setting: string) => {
      if (!setting) return undefined;
      const at = setting.indexOf('=');
      return (attributes.get(setting.slice(0, at)) ?? []).includes(setting.slice(at + 1));
    };
    return {
      service: 'saml', authData: authData.slice(0, 256), email, username: first(config.samlUsernameAttribute) ?? email,
      firstName: first(config.samlFirstNameAttribute), lastName: first(config.samlLastNameAttribute),
      admin: flag(config.samlAdminAttribute), guest: flag(config.samlGuestAttribute),
    };
  }

  private groupsOf(attributes: Map<string, string[]>): ExternalGroup[] | undefined {
    const name = this.deps.config.samlGroupsAttribute;
    if (!name) return undefined;
    return [...new Set(attributes.get(name) ?? [])].filter(Boolean).map((g) => ({ remoteId: g, displayName: g }));
  }

  /** SP-initiated logout: the IdP's SLO URL with a signed LogoutRequest, or undefined without SLO. */
  async logoutUrl(sessionProps: Record<string, string>): Promise<string | undefined> {
    const { metadata, saml } = await this.provider();
    if (!metadata.sloUrl || !sessionProps.saml_name_id) return undefined;
    return saml.getLogoutUrlAsync(
      { issuer: metadata.entityId, nameID: sessionProps.saml_name_id, nameIDFormat: sessionProps.saml_name_id_format || 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', sessionIndex: sessionProps.saml_session_index || undefined },
      '/',
      {},
    );
  }

  /** The certificate body our metadata publishes (for a quick equality check in tests). */
  certificateBody(): string {
    return certBody(this.keys!.cert);
  }
}
