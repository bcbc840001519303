import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

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
 * Reads the configured key pair, or the one kept under `<dataDir>/keys/<name>.{key,crt}`, generating
 * it at first start (key file mode 0600, folder 0700).
 */
export function loadOrCreateKeyPair(options: { keyFile?: string; certFile?: string; dataDir: string; name: string; commonName: string }): KeyPair {
  if (options.keyFile && options.certFile) {
    return { key: fs.readFileSync(options.keyFile, 'utf8'), cert: fs.readFileSync(options.certFile, 'utf8') };
  }
  const dir = path.join(options.dataDir, 'keys');
  const keyFile = path.join(dir, `${options.name}.key`);
  const certFile = path.join(dir, `${options.name}.crt`);
  if (fs.existsSync(keyFile) && fs.existsSync(certFile)) {
    return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateSelfSigned(options.commonName);
  // Written beside and renamed into place, so a crash never leaves half a key.
  const tmpKey = `${keyFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmpKey, pair.key, { mode: 0o600 });
  fs.writeFileSync(`${certFile}.${process.pid}.tmp`, pair.cert, { mode: 0o644 });
  fs.renameSync(tmpKey, keyFile);
  fs.renameSync(`${certFile}.${process.pid}.tmp`, certFile);
  return pair;
}

/** The base64 body of a PEM certificate, as metadata and KeyInfo carry it. */
export function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}
