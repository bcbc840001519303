import crypto from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import { generateSelfSigned, type KeyPair } from '../../sso/keys.ts';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const IDP_ENTITY_ID = 'https://idp.test/saml/metadata';

export interface AssertionOptions {
  inResponseTo: string;
  acsUrl: string;
  audience: string;
  nameId: string;
  attributes?: Record<string, string[]>;
  assertionId?: string;
  issuer?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  recipient?: string;
  /** XML placed inside the assertion's Advice (the "assertion in Advice" attack). */
  advice?: string;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A test identity provider: its key pair, its metadata, and signed SAML responses built by hand. */
export class TestIdp {
  readonly keys: KeyPair = generateSelfSigned('idp.test');

  metadata(): string {
    const cert = this.keys.cert.replace(/-----[^-]+-----|\s/g, '');
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP_ENTITY_ID}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/saml/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/saml/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** An unsigned Assertion element. */
  assertion(o: AssertionOptions): string {
    const now = Date.now();
    const notBefore = o.notBefore ?? new Date(now - 30_000);
    const notOnOrAfter = o.notOnOrAfter ?? new Date(now + 5 * 60_000);
    const attributes = Object.entries(o.attributes ?? {})
      .map(([name, values]) => `<saml:Attribute Name="${esc(name)}">${values.map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`).join('');
    return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${o.assertionId ?? `_a${crypto.randomBytes(16).toString('hex')}`}" Version="2.0" IssueInstant="${iso(new Date(now))}">`
      + `<saml:Issuer>${esc(o.issuer ?? IDP_ENTITY_ID)}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(o.nameId)}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${o.inResponseTo}" NotOnOrAfter="${iso(notOnOrAfter)}" Recipient="${esc(o.recipient ?? o.acsUrl)}"/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}"><saml:AudienceRestriction><saml:Audience>${esc(o.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + (o.advice ? `<saml:Advice>${o.advice}</saml:Advice>` : '')
      + `<saml:AuthnStatement AuthnInstant="${iso(new Date(now))}" SessionIndex="_s${crypto.randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '')
      + '</saml:Assertion>';
  }

  /** A Response wrapping `inner` (assertions, already signed or not). */
  response(o: { inResponseTo: string; destination: string; inner: string; issuer?: string; status?: string }): string {
    return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${crypto.randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${iso(new Date())}" Destination="${esc(o.destination)}" InResponseTo="${o.inResponseTo}">`
      + `<saml:Issuer>${esc(o.issuer ?? IDP_ENTITY_ID)}</saml:Issuer>`
      + `<samlp:Status><samlp:StatusCode Value="${o.status ?? 'urn:oasis:names:tc:SAML:2.0:status:Success'}"/></samlp:Status>`
      + o.inner
      + '</samlp:Response>';
  }

  /**
   * Signs the element `localName` (the first one found) with an enveloped signature placed after its
   * Issuer. SHA-256 unless `sha1`; the IdP's key unless another pair is given (its certificate then
   * travels in KeyInfo, as an attacker would send it).
   */
  sign(xml: string, localName: 'Assertion' | 'Response', options: { sha1?: boolean; keys?: KeyPair } = {}): string {
    const keys = options.keys ?? this.keys;
    const sig = new SignedXml({ privateKey: keys.key, publicCert: keys.cert, signatureAlgorithm: options.sha1 ? RSA_SHA1 : RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
    const target = `//*[local-name(.)='${localName}']`;
    sig.addReference({ xpath: target, digestAlgorithm: options.sha1 ? SHA1 : SHA256, transforms: [ENVELOPED, EXC_C14N] });
    sig.computeSignature(xml, { location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' } });
    return sig.getSignedXml();
  }

  /** A complete, valid response: signed assertion inside a signed response. */
  validResponse(o: AssertionOptions): string {
    const assertion = this.sign(this.assertion(o), 'Assertion');
    return this.sign(this.response({ inResponseTo: o.inResponseTo, destination: o.acsUrl, inner: assertion }), 'Response');
  }

  /** The same with the signed assertion encrypted for the SP (AES-256-GCM, RSA-OAEP). */
  async encryptedResponse(o: AssertionOptions, spCert: string): Promise<string> {
    const assertion = this.sign(this.assertion(o), 'Assertion');
    const encrypted = await promisify((cb: (err: Error | null, result: string) => void) => xmlenc.encrypt(assertion, {
      rsa_pub: spCert, pem: spCert, encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm', keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    }, cb as never))();
    return this.sign(this.response({ inResponseTo: o.inResponseTo, destination: o.acsUrl, inner: `<saml:EncryptedAssertion>${encrypted}</saml:EncryptedAssertion>` }), 'Response');
  }
}

/** Reads the AuthnRequest out of an HTTP-Redirect URL: its XML, ID and the signature parameters. */
export function readRedirectRequest(location: string): { xml: string; id: string; sigAlg: string; signature: string; signed: string } {
  const url = new URL(location);
  const xml = zlib.inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  const id = /ID="([^"]+)"/.exec(xml)![1];
  // The signed string is the raw query up to (not including) &Signature=, in the order sent.
  const raw = url.search.slice(1).split('&').filter((p) => !p.startsWith('Signature=')).join('&');
  return { xml, id, sigAlg: url.searchParams.get('SigAlg') ?? '', signature: url.searchParams.get('Signature') ?? '', signed: raw };
}

export { generateSelfSigned };
