import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import type { Config } from '../../server/config/schema.ts';
import { ensureDir } from '../../server/lib/fs.ts';

/** The key that signs export manifests, and its certificate (embedded in every signature). */
export interface ExportKey {
  privateKey: crypto.KeyObject;
  certificatePem: string;
  certificate: forge.pki.Certificate;
  /** SHA-256 of the certificate's DER, hex: what `export verify` prints and pins. */
  fingerprint: string;
}

/** Where the generated key and certificate live when none is configured. */
export function defaultKeyPaths(dataDir: string): { key: string; cert: string } {
  const dir = path.join(dataDir, 'keys');
  return { key: path.join(dir, 'export-signing-key.pem'), cert: path.join(dir, 'export-signing-cert.pem') };
}

export function certificateFingerprint(certificate: forge.pki.Certificate): string {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes();
  return crypto.createHash('sha256').update(Buffer.from(der, 'binary')).digest('hex');
}

/** A self-signed certificate for the export signing key (10 years; the key is what matters). */
function selfSignedCertificate(privatePem: string, publicPem: string, nodeId: string): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = '01' + crypto.randomBytes(15).toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const subject = [
    { name: 'commonName', value: `Custodian compliance export signing (${nodeId})` },
    { name: 'organizationName', value: 'Custodian' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privatePem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/**
 * Makes sure an export signing key exists: the configured files, or `<dataDir>/keys/` where a 3072-bit
 * RSA key and a self-signed certificate are generated at first start (mode 0600; O_EXCL, so two
 * processes starting together keep one key).
 */
export function ensureExportKey(config: Pick<Config, 'dataDir' | 'nodeId' | 'exportKeyFile' | 'exportCertFile'>): { key: string; cert: string } {
  const existing = configuredOrExisting(config);
  if (existing) return existing;
  return writeKey(config, crypto.generateKeyPairSync('rsa', { modulusLength: 3072 }));
}

/** As ensureExportKey, but the key pair is generated off the event loop (server start). */
export async function ensureExportKeyAsync(config: Pick<Config, 'dataDir' | 'nodeId' | 'exportKeyFile' | 'exportCertFile'>): Promise<{ key: string; cert: string }> {
  const existing = configuredOrExisting(config);
  if (existing) return existing;
  const pair = await new Promise<crypto.KeyPairKeyObjectResult>((resolve, reject) =>
    crypto.generateKeyPair('rsa', { modulusLength: 3072 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
  );
  return configuredOrExisting(config) ?? writeKey(config, pair);
}

function configuredOrExisting(config: Pick<Config, 'dataDir' | 'exportKeyFile' | 'exportCertFile'>): { key: string; cert: string } | undefined {
  if (config.exportKeyFile || config.exportCertFile) {
    if (!config.exportKeyFile || !config.exportCertFile) throw new Error('Set both CUSTODIAN_EXPORT_KEY_FILE and CUSTODIAN_EXPORT_CERT_FILE, or neither.');
    return { key: config.exportKeyFile, cert: config.exportCertFile };
  }
  const paths = defaultKeyPaths(config.dataDir);
  return fs.existsSync(paths.key) && fs.existsSync(paths.cert) ? paths : undefined;
}

function writeKey(config: Pick<Config, 'dataDir' | 'nodeId'>, pair: crypto.KeyPairKeyObjectResult): { key: string; cert: string } {
  const { privateKey, publicKey } = pair;
  const paths = defaultKeyPaths(config.dataDir);
  ensureDir(path.dirname(paths.key), 0o700);
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const certPem = selfSignedCertificate(privatePem, publicKey.export({ type: 'spki', format: 'pem' }) as string, config.nodeId);
  try {
    fs.writeFileSync(paths.key, privatePem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return waitForCertificate(paths);
  }
  const temp = `${paths.cert}.${process.pid}.tmp`;
  fs.writeFileSync(temp, certPem, { mode: 0o600 });
  fs.renameSync(temp, paths.cert);
  return paths;
}

/** Another process won the race to create the key: its certificate follows within moments. */
function waitForCertificate(paths: { key: string; cert: string }): { key: string; cert: string } {
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(paths.cert)) {
    if (Date.now() > deadline) throw new Error(`${paths.key} exists but its certificate ${paths.cert} does not; remove the key to regenerate both.`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  return paths;
}

/** Reads a certificate (PEM) for pinning or verification. */
export function readCertificate(file: string): forge.pki.Certificate {
  return forge.pki.certificateFromPem(fs.readFileSync(file, 'utf8'));
}

/** Loads the signing key and certificate named by `ensureExportKey`. */
export function loadExportKey(paths: { key: string; cert: string }): ExportKey {
  const certificatePem = fs.readFileSync(paths.cert, 'utf8');
  const certificate = forge.pki.certificateFromPem(certificatePem);
  const privateKey = crypto.createPrivateKey(fs.readFileSync(paths.key, 'utf8'));
  const fromKey = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCert = crypto.createPublicKey(forge.pki.publicKeyToPem(certificate.publicKey)).export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) throw new Error(`The export certificate ${paths.cert} does not belong to the key ${paths.key}.`);
  return { privateKey, certificatePem, certificate, fingerprint: certificateFingerprint(certificate) };
}
