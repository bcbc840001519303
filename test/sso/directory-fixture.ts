import crypto from 'node:crypto';
import forge from 'node-forge';

export const BASE_DN = 'dc=corp,dc=test';
export const SERVICE_DN = `cn=custodian,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'service-account-secret';
export const PASSWORD = 'directory-password-1';

export interface FixtureEntry {
  dn: string;
  attributes: Record<string, string[]>;
}

const user = (uid: string, given: string, sn: string): FixtureEntry => ({
  dn: `uid=${uid},ou=people,${BASE_DN}`,
  attributes: { objectClass: ['inetOrgPerson'], uid: [uid], cn: [`${given} ${sn}`], givenName: [given], sn: [sn], mail: [`${uid}@corp.test`], userPassword: [PASSWORD] },
});
const group = (cn: string, members: string[]): FixtureEntry => ({
  dn: `cn=${cn},ou=groups,${BASE_DN}`,
  attributes: { objectClass: ['groupOfNames'], cn: [cn], member: members },
});
const dnOf = (uid: string) => `uid=${uid},ou=people,${BASE_DN}`;
const groupDn = (cn: string) => `cn=${cn},ou=groups,${BASE_DN}`;

/**
 * The seeded directory: people, and nested groups (devs ⊂ engineering; engineering ⊂ staff), a
 * compliance group, and an entry whose uid looks like filter syntax to catch injection.
 */
export function directoryEntries(): FixtureEntry[] {
  return [
    { dn: BASE_DN, attributes: { objectClass: ['dcObject', 'organization'], dc: ['corp'], o: ['Corp'] } },
    { dn: `ou=people,${BASE_DN}`, attributes: { objectClass: ['organizationalUnit'], ou: ['people'] } },
    { dn: `ou=groups,${BASE_DN}`, attributes: { objectClass: ['organizationalUnit'], ou: ['groups'] } },
    { dn: `ou=services,${BASE_DN}`, attributes: { objectClass: ['organizationalUnit'], ou: ['services'] } },
    { dn: SERVICE_DN, attributes: { objectClass: ['person'], cn: ['custodian'], sn: ['service'], userPassword: [SERVICE_PASSWORD] } },
    user('alice', 'Alice', 'Archer'),
    user('bob', 'Bob', 'Baker'),
    user('carol', 'Carol', 'Cooper'),
    user('dave', 'Dave', 'Dunn'),
    user('erin', 'Erin', 'Ellis'),
    group('devs', [dnOf('alice'), dnOf('carol')]),
    group('engineering', [groupDn('devs'), dnOf('bob')]),
    group('staff', [groupDn('engineering'), dnOf('dave')]),
    // groupOfNames needs a member: the placeholder keeps the group valid when erin leaves it.
    group('compliance', [dnOf('erin'), `cn=placeholder,ou=groups,${BASE_DN}`]),
  ];
}

export { dnOf, groupDn };

/** LDIF for slapadd. */
export function toLdif(entries: FixtureEntry[]): string {
  return entries.map((e) => [`dn: ${e.dn}`, ...Object.entries(e.attributes).flatMap(([k, vs]) => vs.map((v) => `${k}: ${v}`))].join('\n')).join('\n\n') + '\n';
}

/** A CA and a server certificate for 127.0.0.1/localhost, for LDAPS and StartTLS tests. */
export function testPki(): { caCert: string; serverKey: string; serverCert: string; otherCaCert: string } {
  const makeCa = (name: string) => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = `01${crypto.randomBytes(8).toString('hex')}`;
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
    cert.setSubject([{ name: 'commonName', value: name }]);
    cert.setIssuer([{ name: 'commonName', value: name }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    return { keys, cert };
  };
  const ca = makeCa('Custodian Test CA');
  const other = makeCa('Some Other CA');
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `02${crypto.randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, keyEncipherment: true }, { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(ca.keys.privateKey, forge.md.sha256.create());
  return {
    caCert: forge.pki.certificateToPem(ca.cert), otherCaCert: forge.pki.certificateToPem(other.cert),
    serverKey: forge.pki.privateKeyToPem(keys.privateKey), serverCert: forge.pki.certificateToPem(cert),
  };
}
