import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import forge from 'node-forge';
import { nowMs } from '../server/lib/clock.ts';
import type { Logger } from '../server/lib/logger.ts';

export interface KeyPair {
  /** PEM private key. */
  key: string;
  /** PEM self-signed (or configured) certificate. */
  cert: string;
}

/** A new RSA-3072 key and a self-signed certificate for `commonName`, valid ten years (node-forge). */
export function generateSelfSigned(commonName: string): KeyPair {
  // forge uses Node's native key generation when it is available, so this takes milliseconds.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 3072, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive serial: leading byte below 0x80.
  cert.serialNumber = `01${crypto.randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: commonName.slice(0, 64) }, { name: 'organizationName', value: 'Custodian' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, keyEncipherment: true }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

/**
 * The configured key pair (files), or the one this cluster generated: kept in PostgreSQL (`sso_key_pairs`)
 * so that every node on the database presents the same certificate. At the very first start each
 * starting node makes a candidate; INSERT ... ON CONFLICT DO NOTHING keeps exactly one and every node
 * reads that one back. A pair an earlier version generated under `<dataDir>/keys/<name>.{key,crt}` is
 * adopted instead of a new one, so the certificate registered with the identity provider keeps working.
 * There is no cluster-wide secret to encrypt it with: the key is as safe as the database (and its backups);
 * configure key files to keep it out of the database.
 */
export async function loadOrCreateKeyPair(
  db: Knex,
  logger: Logger,
  options: { keyFile?: string; certFile?: string; dataDir: string; name: string; commonName: string },
): Promise<KeyPair> {
  if (options.keyFile && options.certFile) {
    return { key: fs.readFileSync(options.keyFile, 'utf8'), cert: fs.readFileSync(options.certFile, 'utf8') };
  }
  const stored = async () => (await db('sso_key_pairs').where({ name: options.name }).first('private_key', 'certificate')) as { private_key: string; certificate: string } | undefined;
  const legacy = legacyKeyPair(options.dataDir, options.name);
  let row = await stored();
  if (!row) {
    const candidate = legacy ?? generateSelfSigned(options.commonName);
    await db('sso_key_pairs').insert({ name: options.name, private_key: candidate.key, certificate: candidate.cert, create_at: nowMs() }).onConflict('name').ignore();
    row = (await stored())!;
  }
  if (legacy && legacy.cert.trim() !== row.certificate.trim()) {
    logger.warn({ key: options.name }, `${options.name}: the key pair under ${path.join(options.dataDir, 'keys')} is not the cluster's (kept in PostgreSQL); it is ignored`);
  }
  return { key: row.private_key, cert: row.certificate };
}

/** A key pair an earlier version kept under `<dataDir>/keys/<name>.{key,crt}`, if there is one. */
function legacyKeyPair(dataDir: string, name: string): KeyPair | undefined {
  const keyFile = path.join(dataDir, 'keys', `${name}.key`);
  const certFile = path.join(dataDir, 'keys', `${name}.crt`);
  if (!fs.existsSync(keyFile) || !fs.existsSync(certFile)) return undefined;
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
}

/** The base64 body of a PEM certificate, as metadata and KeyInfo carry it. */
export function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
