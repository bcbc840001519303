import { SsoRefusal } from '../deps.ts';
import { children, elements, NS, parseUntrustedXml, strictText, type Document } from './xml.ts';

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What Custodian needs from an identity provider's metadata. */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService, HTTP-Redirect binding. */
  ssoUrl: string;
  /** SingleLogoutService, HTTP-Redirect binding (empty when the IdP offers none). */
  sloUrl: string;
  /** Base64 DER signing certificates: the only keys trusted to sign responses. */
  signingCerts: string[];
}

/** Parses IdP metadata (one EntityDescriptor with an IDPSSODescriptor); throws on anything missing. */
export function parseIdpMetadata(xml: string): IdpMetadata {
  let doc: Document;
  try {
    doc = parseUntrustedXml(xml, 'IdP metadata');
  } catch (err) {
    throw new Error(err instanceof SsoRefusal ? err.reason : String(err), { cause: err });
  }
  const entity = elements(doc.documentElement, NS.metadata, 'EntityDescriptor')[0];
  if (!entity) throw new Error('IdP metadata has no EntityDescriptor');
  const entityId = entity.getAttribute('entityID') ?? '';
  const idp = children(entity, NS.metadata, 'IDPSSODescriptor')[0];
  if (!entityId || !idp) throw new Error('IdP metadata has no entityID or IDPSSODescriptor');
  const service = (name: string) => children(idp, NS.metadata, name).find((s) => s.getAttribute('Binding') === REDIRECT)?.getAttribute('Location') ?? '';
  const ssoUrl = service('SingleSignOnService');
  if (!ssoUrl) throw new Error('IdP metadata has no SingleSignOnService with the HTTP-Redirect binding');
  const signingCerts = children(idp, NS.metadata, 'KeyDescriptor')
    .filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((k) => elements(k, NS.dsig, 'X509Certificate').map((c) => strictText(c, 'X509Certificate').replace(/\s+/g, '')))
    .filter(Boolean);
  if (signingCerts.length === 0) throw new Error('IdP metadata has no signing certificate');
  return { entityId, ssoUrl, sloUrl: service('SingleLogoutService'), signingCerts };
}
