import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import forge from 'node-forge';
import type { Config } from '../config/schema.ts';
import { tlsEnabled } from '../config/tls.ts';
import { withFileLock } from '../lib/file-lock.ts';
import type { Logger } from '../lib/logger.ts';

/**
 * HTTPS served by Custodian itself, for sites without a reverse proxy: the configured certificate and
 * key (CUSTODIAN_TLS_CERT_FILE / CUSTODIAN_TLS_KEY_FILE), or with CUSTODIAN_TLS=self-signed one generated
 * at first start under `<dataDir>/keys/` for the site URL's host, localhost and the loopback addresses.
 */

export interface TlsMaterial {
  key: string;
  cert: string;
  source: 'files' | 'self-signed';
  /** Where the certificate is, for the boot log and for clients that must be told to trust it. */
  certFile: string;
  fingerprint256: string;
}

const SELF_SIGNED_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

function san(host: string): { type: number; value?: string; ip?: string }[] {
  const names = new Set([host, 'localhost']);
  const ips = new Set(['127.0.0.1', '::1']);
  const altNames: { type: number; value?: string; ip?: string }[] = [];
  for (const name of names) {
    if (net.isIP(name)) ips.add(name);
    else altNames.push({ type: 2, value: name }); // dNSName
  }
  for (const ip of ips) altNames.push({ type: 7, ip }); // iPAddress
  return altNames;
}

/** A new RSA-3072 key and a self-signed server certificate for `host`, localhost and loopback (node-forge). */
export function generateTlsCertificate(host: string, days = SELF_SIGNED_DAYS): { key: string; cert: string } {
  // forge hands the key generation to Node's crypto when it can, so this takes milliseconds.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 3072, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${crypto.randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 24 * 3600_000);
  const attrs = [
    { name: 'commonName', value: host.slice(0, 64) },
    { name: 'organizationName', value: 'Custodian (self-signed)' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: san(host) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

/** Why an existing self-signed certificate must be replaced, or undefined when it still serves. */
function replacementReason(certPem: string, keyPem: string, host: string): string | undefined {
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(certPem);
    if (!cert.checkPrivateKey(crypto.createPrivateKey(keyPem))) return 'the key does not match it';
  } catch {
    return 'it or its key cannot be parsed';
  }
  if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_DAYS * 24 * 3600_000) return `it expires ${cert.validTo}`;
  const covers = net.isIP(host) ? cert.checkIP(host) : cert.checkHost(host, { subject: 'never' });
  if (!covers) return `it does not name ${host} (the site URL changed)`;
  return undefined;
}

function writeAtomically(file: string, content: string, mode: number): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content, { mode });
  fs.renameSync(temp, file);
}

function fingerprint(certPem: string): string {
  return new crypto.X509Certificate(certPem).fingerprint256;
}

/**
 * The key and certificate to serve, or undefined when HTTPS is off. Configured files are checked (they
 * parse and belong together); a self-signed certificate is generated at first start and replaced when
 * it nears expiry or no longer names the site's host.
 */
export function loadTls(config: Pick<Config, 'tls' | 'tlsCertFile' | 'tlsKeyFile' | 'siteUrl' | 'dataDir'>, logger: Logger): TlsMaterial | undefined {
  if (!tlsEnabled(config)) return undefined;
  if (config.tlsCertFile && config.tlsKeyFile) {
    const cert = fs.readFileSync(config.tlsCertFile, 'utf8');
    const key = fs.readFileSync(config.tlsKeyFile, 'utf8');
    let leaf: crypto.X509Certificate;
    try {
      leaf = new crypto.X509Certificate(cert);
    } catch (err) {
      throw new Error(`CUSTODIAN_TLS_CERT_FILE ${config.tlsCertFile} is not a PEM certificate (${(err as Error).message})`, { cause: err });
    }
    let privateKey: crypto.KeyObject;
    try {
      privateKey = crypto.createPrivateKey(key);
    } catch (err) {
      throw new Error(`CUSTODIAN_TLS_KEY_FILE ${config.tlsKeyFile} is not a PEM private key (${(err as Error).message})`, { cause: err });
    }
    if (!leaf.checkPrivateKey(privateKey)) throw new Error(`CUSTODIAN_TLS_KEY_FILE ${config.tlsKeyFile} is not the key of the certificate in ${config.tlsCertFile}`);
    if (Date.parse(leaf.validTo) < Date.now()) logger.warn({ cert: config.tlsCertFile, valid_to: leaf.validTo }, 'the TLS certificate has expired');
    return { key, cert, source: 'files', certFile: config.tlsCertFile, fingerprint256: leaf.fingerprint256 };
  }
  const host = new URL(config.siteUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const dir = path.join(config.dataDir, 'keys');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Replicas sharing the keys folder: the first generates, the others read what it wrote.
  return withFileLock(path.join(dir, 'tls.lock'), () => selfSigned(dir, host, logger));
}

function selfSigned(dir: string, host: string, logger: Logger): TlsMaterial {
  const keyFile = path.join(dir, 'tls.key');
  const certFile = path.join(dir, 'tls.crt');
  if (fs.existsSync(keyFile) && fs.existsSync(certFile)) {
    const cert = fs.readFileSync(certFile, 'utf8');
    const key = fs.readFileSync(keyFile, 'utf8');
    const reason = replacementReason(cert, key, host);
    if (!reason) return { key, cert, source: 'self-signed', certFile, fingerprint256: fingerprint(cert) };
    logger.warn({ cert: certFile, reason }, 'replacing the self-signed TLS certificate');
  }
  const pair = generateTlsCertificate(host);
  writeAtomically(keyFile, pair.key, 0o600);
  writeAtomically(certFile, pair.cert, 0o644);
  const fp = fingerprint(pair.cert);
  logger.info({ cert: certFile, host, sha256: fp }, 'generated a self-signed TLS certificate; clients must be told to trust it');
  return { ...pair, source: 'self-signed', certFile, fingerprint256: fp };
}
