import crypto from 'node:crypto';
import forge from 'node-forge';
import { certificateFingerprint, type ExportKey } from './keys.ts';

const asn1 = forge.asn1;
const oids = forge.pki.oids;

// DER prefix of a DigestInfo for SHA-256 (RFC 8017, 9.2): PKCS#1 v1.5 signs this plus the digest.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * A detached CMS/PKCS#7 SignedData over `content`: SHA-256, RSA PKCS#1 v1.5, with content-type,
 * message-digest and signing-time attributes, and the signer's certificate included. node-forge
 * builds the structure; the RSA operation itself runs in Node's native crypto.
 */
export function signDetached(content: Buffer, key: ExportKey, signingTime = new Date()): Buffer {
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(content.toString('binary'));
  p7.addCertificate(key.certificate);
  const nativeSigner = {
    sign(md: forge.md.MessageDigest): string {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      return crypto.privateEncrypt({ key: key.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest])).toString('binary');
    },
  };
  p7.addSigner({
    key: nativeSigner as unknown as forge.pki.rsa.PrivateKey,
    certificate: key.certificate,
    digestAlgorithm: oids.sha256,
    authenticatedAttributes: [
      { type: oids.contentType, value: oids.data },
      { type: oids.messageDigest },
      { type: oids.signingTime, value: signingTime as unknown as string },
    ],
  });
  p7.sign({ detached: true });
  return Buffer.from(asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
}

/** What checking a detached signature found. */
export interface SignatureCheck {
  valid: boolean;
  problems: string[];
  certificate?: forge.pki.Certificate;
  fingerprint?: string;
  signer?: string;
  signingTime?: Date;
}

type Node = forge.asn1.Asn1;

function children(node: Node | undefined): Node[] {
  return Array.isArray(node?.value) ? (node.value as Node[]) : [];
}

function oidOf(node: Node | undefined): string | undefined {
  return node && node.type === asn1.Type.OID && typeof node.value === 'string' ? asn1.derToOid(node.value) : undefined;
}

/**
 * Checks a detached CMS signature over `content` with nothing but the signature itself: the digest
 * attribute must equal SHA-256(content), and the signature over the attributes must verify with the
 * public key of the certificate the signature carries. Who that certificate belongs to is the
 * caller's question (pin it).
 */
export function verifyDetached(content: Buffer, signatureDer: Buffer): SignatureCheck {
  const problems: string[] = [];
  let root: Node;
  try {
    root = asn1.fromDer(forge.util.createBuffer(signatureDer.toString('binary')), true);
  } catch (err) {
    return { valid: false, problems: [`the signature is not valid DER (${(err as Error).message})`] };
  }
  const [contentType, wrapped] = children(root);
  if (oidOf(contentType) !== oids.signedData) return { valid: false, problems: ['the signature is not a CMS SignedData'] };
  const signedData = children(wrapped)[0];
  const parts = children(signedData);
  const certificates = parts.filter((p) => p.tagClass === asn1.Class.CONTEXT_SPECIFIC && p.type === 0).flatMap(children);
  const signerInfos = children(parts.at(-1));
  if (signerInfos.length !== 1) return { valid: false, problems: [`expected exactly one signer, found ${signerInfos.length}`] };
  const signerInfo = children(signerInfos[0]);
  const [, issuerAndSerial, digestAlgorithm] = signerInfo;
  const attributesNode = signerInfo.find((p) => p.tagClass === asn1.Class.CONTEXT_SPECIFIC && p.type === 0);
  const encryptedDigest = signerInfo.find((p) => p.tagClass === asn1.Class.UNIVERSAL && p.type === asn1.Type.OCTETSTRING);
  if (oidOf(children(digestAlgorithm)[0]) !== oids.sha256) problems.push('the signature does not use SHA-256');
  if (!attributesNode || !encryptedDigest) return { valid: false, problems: [...problems, 'the signer has no signed attributes'] };

  const serial = forge.util.bytesToHex(String(children(issuerAndSerial)[1]?.value ?? ''));
  const certificate = certificates.map((c) => forge.pki.certificateFromAsn1(c)).find((c) => c.serialNumber.replace(/^0+/, '') === serial.replace(/^0+/, ''));
  if (!certificate) return { valid: false, problems: [...problems, 'the signature does not include the signer certificate'] };

  let digestAttribute: Buffer | undefined;
  let signingTime: Date | undefined;
  let dataContentType = false;
  for (const attribute of children(attributesNode)) {
    const [type, values] = children(attribute);
    const value = children(values)[0];
    const oid = oidOf(type);
    if (oid === oids.messageDigest) digestAttribute = Buffer.from(String(value?.value ?? ''), 'binary');
    else if (oid === oids.contentType) dataContentType = oidOf(value) === oids.data;
    else if (oid === oids.signingTime && value) signingTime = value.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(String(value.value)) : asn1.generalizedTimeToDate(String(value.value));
  }
  if (!dataContentType) problems.push('the signed content type is not "data"');
  const actual = crypto.createHash('sha256').update(content).digest();
  if (!digestAttribute) problems.push('the signature has no message digest');
  else if (!digestAttribute.equals(actual)) problems.push(`manifest.json does not match its signature (signed SHA-256 ${digestAttribute.toString('hex')}, actual ${actual.toString('hex')})`);

  // The signature covers the DER of the attributes as a SET OF (tag 0x31), not as the [0] field.
  const signedBytes = Buffer.from(asn1.toDer(attributesNode).getBytes(), 'binary');
  signedBytes[0] = 0x31;
  const publicKey = crypto.createPublicKey(forge.pki.publicKeyToPem(certificate.publicKey));
  const signature = Buffer.from(String(encryptedDigest.value), 'binary');
  if (!crypto.verify('sha256', signedBytes, publicKey, signature)) problems.push('the RSA signature does not verify with the included certificate');

  const cn = certificate.subject.getField('CN');
  return {
    valid: problems.length === 0,
    problems,
    certificate,
    fingerprint: certificateFingerprint(certificate),
    signer: cn ? String(cn.value) : undefined,
    signingTime,
  };
}
