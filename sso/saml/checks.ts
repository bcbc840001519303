import { promisify } from 'node:util';
import xmlenc from 'xml-encryption';
import { SsoRefusal } from '../deps.ts';
import { anyNamespace, children, elements, NS, parseUntrustedXml, strictText, type Element, type Node } from './xml.ts';

// Only SHA-2 signatures and digests: SHA-1 is refused wherever it appears.
const signatureAlgorithms = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
const digestAlgorithms = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export interface Expectations {
  acsUrl: string;
  idpEntityId: string;
  /** Our key, to look inside an encrypted assertion before node-saml does. */
  decryptionKey: string;
  clockSkewMs: number;
}

/** What the structural pass learnt about the response. */
export interface ResponseFacts {
  responseId: string;
  inResponseTo: string;
}

const decrypt = promisify((xml: string, options: { key: string }, cb: (err: Error | null, result?: string) => void) => xmlenc.decrypt(xml, options, cb as never));

function checkSignatures(root: Node, where: string): void {
  for (const signature of elements(root, NS.dsig, 'Signature')) {
    for (const method of elements(signature, NS.dsig, 'SignatureMethod')) {
      const alg = method.getAttribute('Algorithm') ?? '';
      if (!signatureAlgorithms.has(alg)) throw new SsoRefusal(`${where} is signed with a refused algorithm (${alg || 'none'}); SHA-256 or stronger is required`);
    }
    for (const method of elements(signature, NS.dsig, 'DigestMethod')) {
      const alg = method.getAttribute('Algorithm') ?? '';
      if (!digestAlgorithms.has(alg)) throw new SsoRefusal(`${where} uses a refused digest algorithm (${alg || 'none'}); SHA-256 or stronger is required`);
    }
  }
}

function checkUniqueIds(root: Element, where: string): void {
  const seen = new Set<string>();
  const walk = (el: Element) => {
    for (const name of ['ID', 'Id', 'id']) {
      const value = el.getAttribute(name);
      if (!value) continue;
      if (seen.has(value)) throw new SsoRefusal(`${where} contains the id ${value} twice (signature wrapping)`);
      seen.add(value);
    }
    for (let child = el.firstChild; child; child = child.nextSibling) if (child.nodeType === 1) walk(child as Element);
  };
  walk(root);
}

/**
 * Refuses what the signature cannot vouch for: markup inside values (a comment splitting a NameID is
 * dropped by canonicalisation, so what was signed and what a parser reads could differ), and times
 * outside the validity window (checked here first for a clear reason; node-saml checks them again).
 */
function checkValuesAndTimes(assertion: Element, where: string, skewMs: number): void {
  for (const name of ['NameID', 'AttributeValue', 'Issuer', 'Audience']) {
    for (const el of elements(assertion, NS.assertion, name)) strictText(el, name);
  }
  const now = Date.now();
  const windows = [
    ...children(assertion, NS.assertion, 'Conditions'),
    ...elements(assertion, NS.assertion, 'SubjectConfirmationData'),
  ];
  for (const el of windows) {
    const notBefore = Date.parse(el.getAttribute('NotBefore') ?? '');
    const notOnOrAfter = Date.parse(el.getAttribute('NotOnOrAfter') ?? '');
    if (!Number.isNaN(notBefore) && now + skewMs < notBefore) throw new SsoRefusal(`${where} is not yet valid (NotBefore ${new Date(notBefore).toISOString()})`);
    if (!Number.isNaN(notOnOrAfter) && now - skewMs >= notOnOrAfter) throw new SsoRefusal(`${where} expired at ${new Date(notOnOrAfter).toISOString()}`);
  }
}

/** Refuses an assertion whose document holds further assertions (in Advice, Extensions, Objects...). */
function checkLoneAssertion(assertion: Element, where: string, skewMs: number): void {
  checkValuesAndTimes(assertion, where, skewMs);
  if (anyNamespace(assertion, 'Assertion').length > 0 || anyNamespace(assertion, 'EncryptedAssertion').length > 0) {
    throw new SsoRefusal(`${where} contains a nested assertion (e.g. in Advice)`);
  }
  if (children(assertion, NS.dsig, 'Signature').length !== 1) throw new SsoRefusal(`${where} is not signed (the assertion itself must carry a signature)`);
  checkSignatures(assertion, where);
}

/**
 * Structural checks on the raw response before any signature is verified, refusing what the library
 * would let through or what no honest IdP sends: a DOCTYPE, anything but one Response with exactly one
 * (possibly encrypted) assertion and nothing that looks like another, a missing response signature,
 * SHA-1, duplicate ids, a Destination other than our ACS URL, a foreign issuer, a non-success status.
 */
export async function checkResponseStructure(xml: string, expect: Expectations): Promise<ResponseFacts> {
  const doc = parseUntrustedXml(xml, 'the SAML response');
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') throw new SsoRefusal('the message is not a SAML Response');
  checkUniqueIds(root, 'the response');
  const destination = root.getAttribute('Destination') ?? '';
  if (destination !== expect.acsUrl) throw new SsoRefusal(`the response's Destination (${destination || 'missing'}) is not our ACS URL`);
  const issuer = children(root, NS.assertion, 'Issuer')[0];
  if (issuer && strictText(issuer, 'Issuer') !== expect.idpEntityId) throw new SsoRefusal('the response was issued by another identity provider');
  const status = elements(root, NS.protocol, 'StatusCode')[0]?.getAttribute('Value') ?? '';
  if (status !== SUCCESS) throw new SsoRefusal(`the identity provider answered ${status || 'without a status'}`);
  if (children(root, NS.dsig, 'Signature').length !== 1) throw new SsoRefusal('the response is not signed (a signed response and a signed assertion are required)');
  const inResponseTo = root.getAttribute('InResponseTo') ?? '';
  if (!inResponseTo) throw new SsoRefusal('the response has no InResponseTo (IdP-initiated sign-in is not accepted)');

  const plain = children(root, NS.assertion, 'Assertion');
  const encrypted = children(root, NS.assertion, 'EncryptedAssertion');
  if (plain.length + encrypted.length !== 1) throw new SsoRefusal(`the response carries ${plain.length + encrypted.length} assertions; exactly one is required`);
  // Anything named Assertion anywhere else is a wrapping attempt.
  if (anyNamespace(root, 'Assertion').length !== plain.length || anyNamespace(root, 'EncryptedAssertion').length !== encrypted.length) {
    throw new SsoRefusal('the response holds an assertion outside the expected place (signature wrapping)');
  }
  checkSignatures(root, 'the response');
  if (plain.length === 1) checkLoneAssertion(plain[0], 'the assertion', expect.clockSkewMs);
  else {
    let decrypted: string;
    try {
      decrypted = (await decrypt(encrypted[0].toString(), { key: expect.decryptionKey })) ?? '';
    } catch {
      throw new SsoRefusal('the encrypted assertion cannot be decrypted with our key');
    }
    const inner = parseUntrustedXml(decrypted, 'the decrypted assertion').documentElement;
    if (inner.namespaceURI !== NS.assertion || inner.localName !== 'Assertion') throw new SsoRefusal('the encrypted assertion does not hold an Assertion');
    checkUniqueIds(inner, 'the decrypted assertion');
    checkLoneAssertion(inner, 'the decrypted assertion', expect.clockSkewMs);
  }
  return { responseId: root.getAttribute('ID') ?? '', inResponseTo };
}

/** What Custodian takes from a verified assertion. */
export interface VerifiedAssertion {
  id: string;
  issuer: string;
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string;
  /** When the assertion stops being acceptable: the earliest NotOnOrAfter it carries. */
  notOnOrAfter: number;
  attributes: Map<string, string[]>;
}

/**
 * Checks node-saml leaves to the application, on the assertion bytes the signature covers: issuer,
 * a bearer SubjectConfirmation whose Recipient is our ACS URL and whose InResponseTo is the response's,
 * mandatory expiry times, NameID free of markup. Reads NameID and attributes from those same bytes.
 */
export function checkVerifiedAssertion(xml: string, expect: Expectations, facts: ResponseFacts): VerifiedAssertion {
  const assertion = parseUntrustedXml(xml, 'the verified assertion').documentElement;
  if (assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion') throw new SsoRefusal('the signed content is not an assertion');
  if (anyNamespace(assertion, 'Assertion').length > 0) throw new SsoRefusal('the assertion contains a nested assertion (e.g. in Advice)');
  const issuer = children(assertion, NS.assertion, 'Issuer')[0];
  if (!issuer || strictText(issuer, 'Issuer') !== expect.idpEntityId) throw new SsoRefusal('the assertion was issued by another identity provider');
  const subject = children(assertion, NS.assertion, 'Subject')[0];
  const nameIdEl = subject ? children(subject, NS.assertion, 'NameID')[0] : undefined;
  if (!subject || !nameIdEl) throw new SsoRefusal('the assertion has no Subject NameID');
  const nameId = strictText(nameIdEl, 'NameID');
  if (!nameId) throw new SsoRefusal('the assertion has an empty NameID');
  const confirmations = children(subject, NS.assertion, 'SubjectConfirmation').filter((c) => c.getAttribute('Method') === BEARER);
  const data = confirmations.flatMap((c) => children(c, NS.assertion, 'SubjectConfirmationData'));
  const recipientOk = data.filter((d) => d.getAttribute('Recipient') === expect.acsUrl);
  if (recipientOk.length === 0) throw new SsoRefusal(`the assertion's Recipient (${data[0]?.getAttribute('Recipient') || 'missing'}) is not our ACS URL`);
  const confirmation = recipientOk[0];
  if ((confirmation.getAttribute('InResponseTo') ?? '') !== facts.inResponseTo) throw new SsoRefusal('the assertion answers another request than the response');
  const times = [confirmation.getAttribute('NotOnOrAfter')];
  const conditions = children(assertion, NS.assertion, 'Conditions')[0];
  if (!conditions) throw new SsoRefusal('the assertion has no Conditions');
  times.push(conditions.getAttribute('NotOnOrAfter'));
  if (times.some((t) => !t || Number.isNaN(Date.parse(t!)))) throw new SsoRefusal('the assertion lacks a NotOnOrAfter limit');
  const notOnOrAfter = Math.min(...times.map((t) => Date.parse(t!)));
  const attributes = new Map<string, string[]>();
  for (const statement of children(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.assertion, 'Attribute')) {
      const name = attribute.getAttribute('Name') ?? '';
      const values = children(attribute, NS.assertion, 'AttributeValue').map((v) => strictText(v, `attribute ${name}`));
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  }
  const authn = children(assertion, NS.assertion, 'AuthnStatement')[0];
  return {
    id: assertion.getAttribute('ID') ?? '',
    issuer: expect.idpEntityId,
    nameId,
    nameIdFormat: nameIdEl.getAttribute('Format') ?? '',
    sessionIndex: authn?.getAttribute('SessionIndex') ?? '',
    notOnOrAfter,
    attributes,
  };
}
