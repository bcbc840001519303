import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Integrity of a release tree: SHA256SUMS (the `sha256sum` format, regular files only, so
 * `sha256sum -c SHA256SUMS` works too), a detached signature over it (raw bytes, so `openssl pkeyutl
 * -verify -rawin` checks it), and the public key that made it. `scripts/package.ts` writes them and
 * `custodian verify-install` checks them.
 */
export const SUMS_FILE = 'SHA256SUMS';
export const SIGNATURE_FILE = 'SHA256SUMS.sig';
export const PUBLIC_KEY_FILE = 'release-signing-key.pub.pem';
/** Files describing the tree itself, never listed in SHA256SUMS. */
const SELF = new Set([SUMS_FILE, SIGNATURE_FILE]);

/** Regular files under `root`, as sorted POSIX paths relative to it. Symbolic links are not followed. */
export function listFiles(root: string, skip: (relative: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (skip(relative)) continue;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else if (entry.isFile()) out.push(relative);
    }
  };
  walk(root, '');
  return out.sort();
}

export function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** SHA256SUMS text for every regular file of `root` except the sums and signature themselves. */
export function computeSums(root: string): string {
  return listFiles(root, (relative) => SELF.has(relative))
    .map((relative) => `${sha256File(path.join(root, relative))}  ${relative}\n`)
    .join('');
}

export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new Error(`malformed ${SUMS_FILE} line: ${line.slice(0, 120)}`);
    sums.set(match[2], match[1]);
  }
  return sums;
}

/** Signs `data` with a PEM private key: Ed25519 (pure) or RSA with SHA-256 (PKCS#1 v1.5). */
export function sign(data: Buffer, privateKeyPem: string): Buffer {
  const key = crypto.createPrivateKey(privateKeyPem);
  return crypto.sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key);
}

export function verifySignature(data: Buffer, signature: Buffer, publicKeyPem: string): boolean {
  const key = crypto.createPublicKey(publicKeyPem);
  return crypto.verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key, signature);
}

/** SHA-256 of the DER SubjectPublicKeyInfo, the fingerprint operators compare with the published one. */
export function keyFingerprint(publicKeyPem: string): string {
  const der = crypto.createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

export interface InstallCheck {
  fingerprint: string;
  signatureValid: boolean;
  checked: number;
  modified: string[];
  missing: string[];
}

/**
 * Verifies an unpacked release: the signature over SHA256SUMS (with `publicKeyPem`, or the key shipped
 * in the tree: that only proves the tree is self-consistent, so compare the fingerprint), then every
 * listed file's hash.
 */
export function verifyInstall(root: string, publicKeyPem?: string): InstallCheck {
  const sumsText = fs.readFileSync(path.join(root, SUMS_FILE));
  const signature = fs.readFileSync(path.join(root, SIGNATURE_FILE));
  const key = publicKeyPem ?? fs.readFileSync(path.join(root, PUBLIC_KEY_FILE), 'utf8');
  const result: InstallCheck = { fingerprint: keyFingerprint(key), signatureValid: verifySignature(sumsText, signature, key), checked: 0, modified: [], missing: [] };
  for (const [relative, expected] of parseSums(sumsText.toString('utf8'))) {
    const file = path.join(root, relative);
    if (!fs.existsSync(file)) {
      result.missing.push(relative);
      continue;
    }
    result.checked++;
    if (sha256File(file) !== expected) result.modified.push(relative);
  }
  return result;
}
